//! PutProjectPolicy rules: revision ids, the 5-policy quota, the 2,000-character limit, malformed
//! documents, and ListProjectPolicies paging.

use reko_promote::sandbox::seed::{self, ML_ACCOUNT, STAGING_ACCOUNT};

use super::helpers::*;

fn doc(resource: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{STAGING_ACCOUNT}:root")},
            "Action": "rekognition:CopyProjectVersion",
            "Resource": resource,
        }]
    })
    .to_string()
}

#[tokio::test]
async fn revision_ids_guard_updates() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let put = |name: &'static str, rev: Option<String>| {
        let ml = ml.clone();
        let project = project.clone();
        async move {
            ml.put_project_policy()
                .project_arn(project)
                .policy_name(name)
                .set_policy_revision_id(rev)
                .policy_document(doc("*"))
                .send()
                .await
        }
    };
    let r1 = put("p", None)
        .await
        .unwrap()
        .policy_revision_id()
        .unwrap()
        .to_string();
    assert!(r1.chars().all(|c| c.is_ascii_hexdigit()));
    // Updating without the revision, with a stale one, or creating with one.
    assert_eq!(
        code(&put("p", None).await.unwrap_err()),
        "ResourceAlreadyExistsException"
    );
    assert_eq!(
        code(&put("p", Some("abcdef".into())).await.unwrap_err()),
        "InvalidPolicyRevisionIdException"
    );
    assert_eq!(
        code(&put("new", Some(r1.clone())).await.unwrap_err()),
        "InvalidPolicyRevisionIdException"
    );
    let r2 = put("p", Some(r1.clone()))
        .await
        .unwrap()
        .policy_revision_id()
        .unwrap()
        .to_string();
    assert_ne!(r1, r2);
    assert_eq!(
        code(&put("p", Some(r1.clone())).await.unwrap_err()),
        "InvalidPolicyRevisionIdException"
    );
    let e = ml
        .delete_project_policy()
        .project_arn(&project)
        .policy_name("p")
        .policy_revision_id(&r1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPolicyRevisionIdException");
}

#[tokio::test]
async fn at_most_five_policies_listed_five_per_page() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    for i in 0..5 {
        ml.put_project_policy()
            .project_arn(&project)
            .policy_name(format!("p{i}"))
            .policy_document(doc("*"))
            .send()
            .await
            .unwrap();
    }
    let e = ml
        .put_project_policy()
        .project_arn(&project)
        .policy_name("p5")
        .policy_document(doc("*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "LimitExceededException");
    let all = ml
        .list_project_policies()
        .project_arn(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(all.project_policies().len(), 5);
    assert!(all.next_token().is_none());
    let first = ml
        .list_project_policies()
        .project_arn(&project)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.project_policies().len(), 2);
    assert!(first.next_token().is_some());
    let e = ml
        .list_project_policies()
        .project_arn(&project)
        .max_results(6)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
}

#[tokio::test]
async fn long_and_malformed_documents_are_refused() {
    let sb = start().await;
    let ml = rek(&sb, "ml").await;
    let project = seed::default_project_arn(ML_ACCOUNT, seed::DEFECT_DETECTOR);
    let base = doc("*");
    // Pad with spaces inside the JSON to exactly 2001 characters.
    let long = format!("{}{}", " ".repeat(2001 - base.len()), base);
    assert_eq!(long.len(), 2001);
    let exact = &long[1..];
    let put = |d: String| {
        let ml = ml.clone();
        let project = project.clone();
        async move {
            ml.put_project_policy()
                .project_arn(project)
                .policy_name("doc")
                .policy_document(d)
                .send()
                .await
        }
    };
    assert_eq!(
        code(&put(long.clone()).await.unwrap_err()),
        "ValidationException"
    );
    put(exact.to_string()).await.unwrap();
    for bad in [
        "{".to_string(),
        r#"{"Version":"2012-10-17"}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"rekognition:DeleteProject","Resource":"*"}]}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","NotAction":"rekognition:CopyProjectVersion","Resource":"*"}]}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"rekognition:CopyProjectVersion"}]}"#.to_string(),
    ] {
        let e = ml
            .put_project_policy()
            .project_arn(&project)
            .policy_name("bad")
            .policy_document(bad.clone())
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "MalformedPolicyDocumentException", "{bad}");
    }
}
