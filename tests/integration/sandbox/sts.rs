//! STS through the SDK: GetCallerIdentity, AssumeRole with and without ExternalId, untrusted
//! callers, duration limits, and the sessions' credentials acting as the role's account.

use aws_sdk_sts::error::ProvideErrorMetadata;
use reko_promote::sandbox::seed::{self, CI_ACCOUNT, PROD_ACCOUNT, STAGING_ACCOUNT};

use super::helpers::*;

#[tokio::test]
async fn caller_identity_of_the_ambient_key() {
    let sb = start().await;
    let out = sts(&sb, "ci")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(out.account(), Some(CI_ACCOUNT));
    assert_eq!(out.arn(), Some("arn:aws:iam::444444444444:user/ci"));
    assert!(out.user_id().unwrap().starts_with("AIDA"));
    // The handle's ready-made config is the same identity.
    let cfg = sb.sdk_config("ci").await.unwrap();
    let again = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(again.arn(), out.arn());
    assert!(sb.sdk_config("nobody").await.is_none());
}

#[tokio::test]
async fn assume_role_gives_session_credentials_of_the_role_account() {
    let sb = start().await;
    let out = sts(&sb, "ci")
        .await
        .assume_role()
        .role_arn(seed::role_arn(STAGING_ACCOUNT))
        .role_session_name("promote-42")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    assert!(c.access_key_id().starts_with("ASIA"));
    assert_eq!(c.access_key_id().len(), 20);
    assert!(!c.session_token().is_empty());
    let expires = c.expiration().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (expires - now - 900).abs() < 10,
        "expiration {expires} vs now {now}"
    );
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::222222222222:assumed-role/reko-promote/promote-42"
    );
    assert!(
        user.assumed_role_id().starts_with("AROA")
            && user.assumed_role_id().ends_with(":promote-42")
    );

    let session = aws_sdk_sts::Client::new(
        &sdk_config(
            &sb,
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().into()),
            seed::DEFAULT_REGION,
            1,
        )
        .await,
    );
    let me = session.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(STAGING_ACCOUNT));
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::222222222222:assumed-role/reko-promote/promote-42")
    );
    // The session sees staging's projects.
    let r = rek_as_role(&sb, STAGING_ACCOUNT).await;
    let projects = r.describe_projects().send().await.unwrap();
    assert_eq!(projects.project_descriptions().len(), 2);
    assert!(
        projects.project_descriptions()[0]
            .project_arn()
            .unwrap()
            .contains(":222222222222:")
    );
}

#[tokio::test]
async fn external_id_is_required_by_the_prod_role() {
    let sb = start().await;
    let ci = sts(&sb, "ci").await;
    let assume = |x: Option<&'static str>| {
        let ci = ci.clone();
        async move {
            let mut r = ci
                .assume_role()
                .role_arn(seed::role_arn(PROD_ACCOUNT))
                .role_session_name("s1");
            if let Some(x) = x {
                r = r.external_id(x);
            }
            r.send().await
        }
    };
    let e = assume(None).await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert!(e.message().unwrap().contains(
        "User: arn:aws:iam::444444444444:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/reko-promote"
    ));
    assert_eq!(
        assume(Some("wrong-id")).await.unwrap_err().code(),
        Some("AccessDenied")
    );
    assert!(assume(Some(seed::PROD_EXTERNAL_ID)).await.is_ok());
}

#[tokio::test]
async fn untrusted_callers_and_bad_parameters_are_refused() {
    let sb = start().await;
    // ml's ambient identity is not trusted by the staging role.
    let e = sts(&sb, "ml")
        .await
        .assume_role()
        .role_arn(seed::role_arn(STAGING_ACCOUNT))
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    let ci = sts(&sb, "ci").await;
    // No such role.
    let e = ci
        .assume_role()
        .role_arn("arn:aws:iam::222222222222:role/nope")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    // Session name pattern.
    let e = ci
        .assume_role()
        .role_arn(seed::role_arn(STAGING_ACCOUNT))
        .role_session_name("has space")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert!(e.message().unwrap().contains("roleSessionName"));
    // Longer than the role allows (3600), and below the minimum.
    for d in [7200, 899] {
        let e = ci
            .assume_role()
            .role_arn(seed::role_arn(STAGING_ACCOUNT))
            .role_session_name("s1")
            .duration_seconds(d)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("ValidationError"), "{d}");
    }
}

#[tokio::test]
async fn expired_and_forged_session_tokens() {
    let sb = start().await;
    let out = sts(&sb, "ci")
        .await
        .assume_role()
        .role_arn(seed::role_arn(STAGING_ACCOUNT))
        .role_session_name("s1")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap().clone();
    let forged = aws_sdk_rekognition::Client::new(
        &sdk_config(
            &sb,
            c.access_key_id(),
            c.secret_access_key(),
            Some("forged-token".into()),
            seed::DEFAULT_REGION,
            1,
        )
        .await,
    );
    let e = forged.describe_projects().send().await.unwrap_err();
    assert_eq!(code(&e), "UnrecognizedClientException");
    let forged_sts = aws_sdk_sts::Client::new(
        &sdk_config(
            &sb,
            c.access_key_id(),
            c.secret_access_key(),
            Some("forged-token".into()),
            seed::DEFAULT_REGION,
            1,
        )
        .await,
    );
    let e = forged_sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));

    sb.expire_sessions();
    let cfg = sdk_config(
        &sb,
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().into()),
        seed::DEFAULT_REGION,
        1,
    )
    .await;
    let e = aws_sdk_rekognition::Client::new(&cfg)
        .describe_projects()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ExpiredTokenException");
    let e = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ExpiredToken"));
}

#[tokio::test]
async fn role_chaining_is_limited_to_one_hour() {
    let mut s = reko_promote::sandbox::default_organisation();
    s.roles.push(reko_promote::sandbox::seed::SeedRole {
        arn: "arn:aws:iam::333333333333:role/chained".into(),
        trusted: vec![seed::role_arn(STAGING_ACCOUNT)],
        external_id: None,
        max_session_duration: Some(43200),
    });
    let sb = start_with(reko_promote::sandbox::SandboxConfig {
        seed: s,
        faults: Some(fast_faults()),
        ..Default::default()
    })
    .await;
    let staging = aws_sdk_sts::Client::new(&assume(&sb, STAGING_ACCOUNT).await);
    let chain = |d: i32| {
        let staging = staging.clone();
        async move {
            staging
                .assume_role()
                .role_arn("arn:aws:iam::333333333333:role/chained")
                .role_session_name("chained")
                .duration_seconds(d)
                .send()
                .await
        }
    };
    let e = chain(7200).await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert!(e.message().unwrap().contains("role chaining"));
    let ok = chain(3600).await.unwrap();
    assert_eq!(
        ok.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::333333333333:assumed-role/chained/chained"
    );
    // The CI user itself is not trusted by the chained role.
    let e = sts(&sb, "ci")
        .await
        .assume_role()
        .role_arn("arn:aws:iam::333333333333:role/chained")
        .role_session_name("direct")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
}
