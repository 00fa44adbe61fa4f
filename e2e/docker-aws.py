#!/usr/bin/env python3
"""AWS for e2e/docker.sh: moto_server with SigV4 checking, as an account
holds it.

    docker-aws.py URL setup KEY SECRET PUBLIC_URL BUCKET REGION
        an admin (made while authentication is still off), then: the three
        parameters of /dissertation-editor/livekit/ (SecureString), an IAM
        user "frontdoor" that may read them only, a user "egress" that may
        put objects only, the bucket; then every request must be signed by
        a known key.  Prints shell assignments: FRONTDOOR_KEY_ID,
        FRONTDOOR_SECRET, EGRESS_KEY_ID, EGRESS_SECRET, ADMIN_KEY_ID,
        ADMIN_SECRET.
    docker-aws.py URL list BUCKET REGION ADMIN_KEY_ID ADMIN_SECRET
        the bucket's keys, one a line
"""
import json
import sys
import urllib.request

import boto3

PATH = "/dissertation-editor/livekit/"


def client(url, service, region, key_id, secret):
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id=key_id,
                        aws_secret_access_key=secret)


def user(iam, name, actions):
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": ["*"]}]}))
    return k["AccessKeyId"], k["SecretAccessKey"]


def setup(url, key, secret, public_url, bucket, region):
    iam = client(url, "iam", region, "x", "x")
    admin = user(iam, "admin", ["*"])
    ssm = client(url, "ssm", region, *admin)
    for name, value in (("api-key", key), ("api-secret", secret), ("url", public_url)):
        ssm.put_parameter(Name=PATH + name, Value=value, Type="SecureString",
                          Overwrite=True)
    iam = client(url, "iam", region, *admin)
    frontdoor = user(iam, "frontdoor", ["ssm:GetParameters", "kms:Decrypt"])
    egress = user(iam, "egress", ["s3:PutObject"])
    client(url, "s3", region, *admin).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0",
                                 method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req).read()
    for name, (key_id, sec) in (("FRONTDOOR", frontdoor), ("EGRESS", egress),
                                ("ADMIN", admin)):
        print(f"{name}_KEY_ID={key_id}\n{name}_SECRET={sec}")


def listing(url, bucket, region, key_id, secret):
    s3 = client(url, "s3", region, key_id, secret)
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        print(o["Key"])


if __name__ == "__main__":
    url, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if what == "setup":
        setup(url, *args)
    elif what == "list":
        listing(url, *args)
    else:
        sys.exit(f"usage: {sys.argv[0]} URL setup|list ...")
