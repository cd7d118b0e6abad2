//! Hostile and odd requests: every operation gets bodies of the wrong shape, and the server must
//! answer each with a well-formed awsJson error (never a panic, a 5xx or a dropped connection).

use reko_promote::sandbox::rekognition::OPERATIONS;

use super::helpers::*;

#[tokio::test]
async fn every_operation_survives_malformed_bodies() {
    let sb = start().await;
    let long = "a".repeat(5000);
    let deep = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    let bodies = [
        "null".to_string(),
        "\"string\"".to_string(),
        "{\"ProjectArn\": 5}".to_string(),
        "{\"ProjectArn\": \"arn:aws:rekognition:eu-west-1:111111111111:project/x\"}".to_string(),
        "{\"ProjectVersionArn\": {}, \"Tags\": []}".to_string(),
        "{\"ResourceArn\": \"arn:aws:s3:::bucket/key-that-is-long\", \"Tags\": {\"k\": 1}}".to_string(),
        "{\"VersionNames\": [1, 2], \"MaxResults\": -3}".to_string(),
        "{\"MaxResults\": 1e300, \"NextToken\": \"zz\"}".to_string(),
        format!("{{\"ProjectName\": \"{long}\", \"PolicyDocument\": \"{long}\"}}"),
        format!("{{\"OutputConfig\": \"x\", \"Deep\": {deep}}}"),
        "{\"ProjectArn\": \"arn:aws:rekognition:eu-west-1:111111111111:project/label-reader/1790812800000\", \"PolicyName\": \"\u{00e9}\", \"PolicyDocument\": \"\u{2603}\"}".to_string(),
        "\u{feff}{}".to_string(),
    ];
    for op in OPERATIONS {
        for body in &bodies {
            let r = raw_rekognition(&sb, "ml", &format!("RekognitionService.{op}"), body).await;
            assert!(
                r.status == 400 || r.status == 200,
                "{op} {body:.80}: HTTP {} {}",
                r.status,
                r.body
            );
            if r.status == 400 {
                let j = r.json();
                assert!(
                    j["__type"].is_string() && j["Message"].is_string(),
                    "{op}: {j}"
                );
            }
            assert!(r.header("x-amzn-requestid").is_some());
        }
    }
    assert_still_serving(&sb).await;
}

#[tokio::test]
async fn odd_http_requests_get_request_ids() {
    let sb = start().await;
    for (method, path) in [
        ("GET", "/_sandbox/nope"),
        ("DELETE", "/_sandbox/reset"),
        ("PUT", "/"),
        ("GET", "/?Action=GetCallerIdentity&Version=2011-06-15"),
    ] {
        let r = raw_http(&sb, method, path, &[], b"").await;
        assert!(r.status >= 400, "{method} {path}: {}", r.status);
        assert!(r.header("x-amzn-requestid").is_some(), "{method} {path}");
    }
    // An STS query with no signature is refused in XML.
    let r = raw_http(
        &sb,
        "GET",
        "/?Action=GetCallerIdentity&Version=2011-06-15",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        r.body
    );
}
