#!/usr/bin/env python3
"""Writes a bulk organisation for trying reko-promote at scale on the sandbox: a seed file for
`reko-promote sandbox --seed` and the manifests that promote every version of every source
project into every destination account.

The shape is the benchmarks' (benches/support/org.rs): one source account `src` training
PROJECTS projects of VERSIONS versions; DESTINATIONS accounts `dest-NNN`, each with a project of
the same name. DESTINATIONS x PROJECTS x VERSIONS copies in all (default 50 x 2 x 10 = 1,000).

    python3 scripts/bulk-org.py --out /tmp/org --destinations 50 --projects 2 --versions 10
    reko-promote sandbox --seed /tmp/org/seed.yaml --copy-duration-ms 20000 &
    source /tmp/org/env.sh
    reko-promote apply --auto-approve /tmp/org/manifests

It only writes files; the credentials are the sandbox's made-up ones.
"""

import argparse
import os

REGION = "eu-west-1"
CI_ACCOUNT = "444444444444"
CI_KEY = "AKIABULKCI0000000001"
CI_SECRET = "bulkCiSecretKey0000000000000000000000001"
SOURCE_ACCOUNT = "100000000000"
ALLOW_ALL = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
    '"Action":"rekognition:CopyProjectVersion","Resource":"*"}]}'
)


def destination_account(i):
    return f"2{i:011d}"


def project(p):
    return f"model-{p:02d}"


def version(p, v):
    return f"model-{p:02d}.v{v:03d}"


def account(ident, name, n):
    return (
        f'  - id: "{ident}"\n    name: {name}\n'
        f"    access_key_id: AKIABULK{n:012d}\n"
        f"    secret_access_key: bulkSecret{n:030d}\n"
    )


def role(ident):
    return f'  - arn: arn:aws:iam::{ident}:role/reko-promote\n    trusted: ["{CI_ACCOUNT}"]\n'


def seed(destinations, projects, versions):
    out = [f"region: {REGION}\n", "accounts:\n"]
    out.append(
        f'  - id: "{CI_ACCOUNT}"\n    name: ci\n'
        f"    access_key_id: {CI_KEY}\n    secret_access_key: {CI_SECRET}\n"
    )
    out.append(account(SOURCE_ACCOUNT, "src", 0))
    for i in range(destinations):
        out.append(account(destination_account(i), f"dest-{i:03d}", i + 1))
    out.append("roles:\n")
    out.append(role(SOURCE_ACCOUNT))
    for i in range(destinations):
        out.append(role(destination_account(i)))
    out.append("projects:\n")
    for p in range(projects):
        out.append(f'  - account: "{SOURCE_ACCOUNT}"\n    name: {project(p)}\n    versions:\n')
        for v in range(versions):
            out.append(
                f"      - name: {version(p, v)}\n        status: TRAINING_COMPLETED\n"
                "        f1_score: 0.9\n"
            )
        out.append(
            f"    policies:\n      - name: allow-copies\n        document: '{ALLOW_ALL}'\n"
        )
    for i in range(destinations):
        for p in range(projects):
            out.append(f'  - account: "{destination_account(i)}"\n    name: {project(p)}\n')
    return "".join(out)


def accounts_manifest(destinations):
    docs = []

    def doc(name, ident, bucket):
        text = (
            f"---\napiVersion: reko-promote/v1\nkind: Account\nname: {name}\n"
            f'accountId: "{ident}"\nroleArn: arn:aws:iam::{ident}:role/reko-promote\n'
        )
        if bucket:
            text += f"defaults: {{ outputConfig: {{ s3Bucket: {name}-models }} }}\n"
        docs.append(text)

    doc("src", SOURCE_ACCOUNT, False)
    for i in range(destinations):
        doc(f"dest-{i:03d}", destination_account(i), True)
    return "".join(docs)


def promotion(p, destinations, versions):
    name = project(p)
    lines = [
        f"apiVersion: reko-promote/v1\nkind: Promotion\nname: {name}\nregion: {REGION}\n",
        f"source: {{ account: src, project: {name} }}\nversions:\n",
    ]
    lines += [f"  - version: {version(p, v)}\n" for v in range(versions)]
    lines.append("destinations:\n")
    lines += [
        f"  d{i:03d}: {{ account: dest-{i:03d}, project: {name} }}\n" for i in range(destinations)
    ]
    return "".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory to write into")
    parser.add_argument("--destinations", type=int, default=50)
    parser.add_argument("--projects", type=int, default=2)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566")
    args = parser.parse_args()

    manifests = os.path.join(args.out, "manifests")
    os.makedirs(manifests, exist_ok=True)
    with open(os.path.join(args.out, "seed.yaml"), "w") as f:
        f.write(seed(args.destinations, args.projects, args.versions))
    with open(os.path.join(manifests, "accounts.yaml"), "w") as f:
        f.write(accounts_manifest(args.destinations))
    for p in range(args.projects):
        with open(os.path.join(manifests, f"{project(p)}.yaml"), "w") as f:
            f.write(promotion(p, args.destinations, args.versions))
    with open(os.path.join(args.out, "env.sh"), "w") as f:
        f.write(
            f"export AWS_ENDPOINT_URL={args.endpoint}\n"
            f"export AWS_ACCESS_KEY_ID={CI_KEY}\n"
            f"export AWS_SECRET_ACCESS_KEY={CI_SECRET}\n"
            f"export AWS_REGION={REGION}\n"
        )
    copies = args.destinations * args.projects * args.versions
    print(f"{copies} copies: {args.out}/seed.yaml, {manifests}/, {args.out}/env.sh")


if __name__ == "__main__":
    main()
