#!/usr/bin/env bash
# plan-awscli.sh: the way promotions are planned by hand today, as a baseline for the benchmark
# suite: the AWS CLI, one call per step, one destination account at a time.
#
# Usage: plan-awscli.sh PLACEMENTS.tsv
#   PLACEMENTS.tsv: one placement a line, `ACCOUNT_ID<TAB>PROJECT<TAB>VERSION`, grouped by account.
# Environment: the ambient (CI) credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
# AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (the sandbox), AWS_CLI (the `aws` to run, default `aws`).
#
# Per destination account: `aws sts assume-role` into arn:aws:iam::ACCOUNT:role/reko-promote;
# per destination project: `aws rekognition describe-projects` for its ARN; per placement:
# `aws rekognition describe-project-versions --version-names VERSION`.
# Prints `copy|unchanged ACCOUNT PROJECT VERSION` per placement.
set -euo pipefail

placements=${1:?usage: plan-awscli.sh PLACEMENTS.tsv}
aws=${AWS_CLI:-aws}
ci_key=$AWS_ACCESS_KEY_ID
ci_secret=$AWS_SECRET_ACCESS_KEY

current_account=""
current_project=""
project_arn=""
while IFS=$'\t' read -r account project version; do
    [ -n "$account" ] || continue
    if [ "$account" != "$current_account" ]; then
        read -r key secret token < <(
            AWS_ACCESS_KEY_ID=$ci_key AWS_SECRET_ACCESS_KEY=$ci_secret AWS_SESSION_TOKEN= \
                "$aws" sts assume-role \
                --role-arn "arn:aws:iam::${account}:role/reko-promote" \
                --role-session-name plan-awscli \
                --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text
        )
        export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token
        current_account=$account
        current_project=""
    fi
    if [ "$project" != "$current_project" ]; then
        project_arn=$("$aws" rekognition describe-projects --project-names "$project" \
            --query 'ProjectDescriptions[0].ProjectArn' --output text)
        current_project=$project
    fi
    found=$("$aws" rekognition describe-project-versions --project-arn "$project_arn" \
        --version-names "$version" \
        --query 'length(ProjectVersionDescriptions)' --output text)
    if [ "$found" = "0" ]; then
        echo "copy $account $project $version"
    else
        echo "unchanged $account $project $version"
    fi
done < "$placements"
