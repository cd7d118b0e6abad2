//! Error answers: malformed JSON, missing and out-of-pattern members, too many VersionNames, bad
//! NextTokens, unknown operations, unknown keys and wrong signatures.

use reko_promote::sandbox::seed::{self, ML_ACCOUNT};

use super::helpers::*;

#[tokio::test]
async fn malformed_json_is_a_serialization_exception() {
    let sb = start().await;
    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.DescribeProjects",
        "{not json",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["__type"], "SerializationException");
    assert!(r.header("x-amzn-requestid").is_some());
    let r = raw_rekognition(&sb, "ml", "RekognitionService.DescribeProjects", "[1,2]").await;
    assert_eq!(r.json()["__type"], "SerializationException");
    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.DescribeProjects",
        r#"{"MaxResults":"ten"}"#,
    )
    .await;
    assert_eq!(r.json()["__type"], "SerializationException");
}

#[tokio::test]
async fn missing_and_invalid_members_name_the_member() {
    let sb = start().await;
    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.DescribeProjectVersions",
        "{}",
    )
    .await;
    assert_eq!(r.status, 400);
    let j = r.json();
    assert_eq!(j["__type"], "ValidationException");
    assert!(
        j["Message"].as_str().unwrap().contains("'projectArn'"),
        "{j}"
    );
    assert!(
        j["Message"].as_str().unwrap().contains("must not be null"),
        "{j}"
    );

    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.CopyProjectVersion",
        r#"{"SourceProjectArn":"arn:nope","VersionName":"has space"}"#,
    )
    .await;
    let m = r.json()["Message"].as_str().unwrap().to_string();
    assert!(m.starts_with("5 validation errors detected"), "{m}");
    for member in [
        "sourceProjectArn",
        "sourceProjectVersionArn",
        "destinationProjectArn",
        "versionName",
        "outputConfig",
    ] {
        assert!(m.contains(&format!("'{member}'")), "{member}: {m}");
    }
    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.CreateProject",
        r#"{"ProjectName":"p","Tags":{"aws:x":"y"}}"#,
    )
    .await;
    assert_eq!(r.json()["__type"], "ValidationException");

    // MaxResults out of range, through the SDK.
    let ml = rek(&sb, "ml").await;
    let e = ml
        .describe_project_versions()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR))
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn too_many_version_names() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let mut req = ml
        .describe_project_versions()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR));
    for i in 0..11 {
        req = req.version_names(format!("v{i}"));
    }
    let e = req.send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let msg = aws_sdk_rekognition::error::ProvideErrorMetadata::message(&e)
        .unwrap()
        .to_string();
    assert!(
        msg.contains("versionNames") && msg.contains("less than or equal to 10"),
        "{msg}"
    );
}

#[tokio::test]
async fn forged_next_token_is_refused() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let first = ml
        .describe_project_versions()
        .project_arn(&project)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    // Flip the offset digit.
    let mut forged = token.clone().into_bytes();
    forged[15] = if forged[15] == b'9' { b'8' } else { b'9' };
    for bad in [
        String::from_utf8(forged).unwrap(),
        "garbage".to_string(),
        "00".repeat(24),
    ] {
        let e = ml
            .describe_project_versions()
            .project_arn(&project)
            .max_results(1)
            .next_token(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidPaginationTokenException");
    }
    // A token from one project does not work for another.
    let e = ml
        .describe_project_versions()
        .project_arn(seed::default_project_arn(ML_ACCOUNT, seed::LABEL_READER))
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPaginationTokenException");
    // The real one works.
    let second = ml
        .describe_project_versions()
        .project_arn(&project)
        .max_results(1)
        .next_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.project_version_descriptions().len(), 1);
}

#[tokio::test]
async fn unknown_operation() {
    let sb = start().await;
    let r = raw_rekognition(
        &sb,
        "ml",
        "RekognitionService.DetectCustomLabelsPlease",
        "{}",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let r = raw_rekognition(&sb, "ml", "SomethingElse.DescribeProjects", "{}").await;
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    // An unsigned request with no protocol markers at all does not crash the server either.
    let r = raw_http(&sb, "GET", "/whatever", &[], b"").await;
    assert_eq!(r.status, 400);
}

/// Asserts that Rekognition (JSON error) and STS (XML error) both refuse `cfg`'s credentials,
/// with AWS's codes and Rekognition's message.
async fn refused(cfg: &aws_config::SdkConfig, rekognition: &str, message: &str, sts: &str) {
    let e = aws_sdk_rekognition::Client::new(cfg)
        .describe_projects()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), rekognition);
    assert!(
        aws_sdk_rekognition::error::ProvideErrorMetadata::message(&e)
            .unwrap()
            .contains(message)
    );
    let e = aws_sdk_sts::Client::new(cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&e),
        Some(sts)
    );
}

#[tokio::test]
async fn unknown_key_and_bad_signature() {
    let sb = start().await;
    let cfg = sdk_config(
        &sb,
        "AKIAUNKNOWNKEY000000",
        "x".repeat(40).as_str(),
        None,
        seed::DEFAULT_REGION,
        1,
    )
    .await;
    refused(
        &cfg,
        "UnrecognizedClientException",
        "security token included in the request is invalid",
        "InvalidClientTokenId",
    )
    .await;

    let (k, _) = sb.credentials("ml").unwrap();
    let cfg = sdk_config(
        &sb,
        &k,
        "wrong-secret-wrong-secret-wrong-secret00",
        None,
        seed::DEFAULT_REGION,
        1,
    )
    .await;
    refused(
        &cfg,
        "InvalidSignatureException",
        "The request signature we calculated does not match",
        "SignatureDoesNotMatch",
    )
    .await;

    // A body changed after signing.
    let (k, s) = sb.credentials("ml").unwrap();
    let headers = sign(
        &sb,
        "rekognition",
        &k,
        &s,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "RekognitionService.DescribeProjects"),
        ],
        b"{}",
    );
    let r = raw_http(&sb, "POST", "/", &headers, br#"{"MaxResults":1}"#).await;
    assert_eq!(r.json()["__type"], "InvalidSignatureException");
    // No signature at all.
    let r = raw_http(
        &sb,
        "POST",
        "/",
        &[(
            "x-amz-target".into(),
            "RekognitionService.DescribeProjects".into(),
        )],
        b"{}",
    )
    .await;
    assert_eq!(r.json()["__type"], "MissingAuthenticationTokenException");
    // Nothing was counted for refused signatures.
    assert_eq!(sb.total_calls(), 0);
}
