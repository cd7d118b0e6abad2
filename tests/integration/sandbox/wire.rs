//! Wire details: request ids, content types, epoch-second timestamps, the XML shape of STS, and
//! the admin endpoint.

use super::helpers::*;

#[tokio::test]
async fn json_and_xml_wire_shapes() {
    let sb = start().await;
    let r = raw_rekognition(&sb, "ml", "RekognitionService.DescribeProjects", "{}").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(r.header("x-amzn-requestid").map(str::len), Some(36));
    let j = r.json();
    let ts = &j["ProjectDescriptions"][0]["CreationTimestamp"];
    assert!(ts.is_number(), "{ts}");

    let (k, s) = sb.credentials("ci").unwrap();
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let headers = sign(
        &sb,
        "sts",
        &k,
        &s,
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
    );
    let r = raw_http(&sb, "POST", "/", &headers, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        ),
        "{}",
        r.body
    );
    let id = r.header("x-amzn-requestid").unwrap().to_string();
    assert!(r.body.contains(&format!(
        "<ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata>"
    )));

    let body = b"Action=Nope&Version=2011-06-15";
    let headers = sign(
        &sb,
        "sts",
        &k,
        &s,
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    );
    let r = raw_http(&sb, "POST", "/", &headers, body).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<ErrorResponse"), "{}", r.body);
    assert!(
        r.body
            .contains("<Type>Sender</Type><Code>InvalidAction</Code>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn admin_endpoint() {
    let sb = start().await;
    rek(&sb, "ml")
        .await
        .describe_projects()
        .send()
        .await
        .unwrap();
    let r = raw_http(&sb, "GET", "/_sandbox/health", &[], b"").await;
    assert_eq!(r.status, 200);
    let r = raw_http(&sb, "GET", "/_sandbox/calls", &[], b"").await;
    let calls = r.json();
    assert_eq!(calls[0]["operation"], "DescribeProjects");
    assert_eq!(calls[0]["account"], "111111111111");
    assert_eq!(calls[0]["count"], 1);
    let r = raw_http(&sb, "GET", "/_sandbox/state", &[], b"").await;
    assert!(
        r.json()["rekognition"]["111111111111"]["eu-west-1"]["projects"]["defect-detector"]
            .is_object()
    );
    let put = br#"{"copy_duration_ms": 0, "tps": {"*": 100}}"#;
    let r = raw_http(
        &sb,
        "PUT",
        "/_sandbox/faults",
        &[("content-type".into(), "application/json".into())],
        put,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sb.faults().copy_duration_ms, 0);
    let r = raw_http(
        &sb,
        "PUT",
        "/_sandbox/faults",
        &[("content-type".into(), "application/json".into())],
        br#"{"copy_failure_rate": 7}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    let r = raw_http(&sb, "GET", "/_sandbox/faults", &[], b"").await;
    assert_eq!(r.json()["tps"]["*"], 100.0);
    // Admin calls are not API calls.
    assert_eq!(sb.total_calls(), 1);
    rek(&sb, "ml")
        .await
        .create_project()
        .project_name("temp")
        .send()
        .await
        .unwrap();
    // Admin writes carry a JSON content type (hardening.rs has why).
    let r = raw_http(
        &sb,
        "POST",
        "/_sandbox/reset",
        &[("content-type".into(), "application/json".into())],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        !sb.state().rekognition["111111111111"]["eu-west-1"]
            .projects
            .contains_key("temp")
    );
    assert_eq!(sb.total_calls(), 0);
}
