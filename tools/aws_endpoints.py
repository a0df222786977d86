#!/usr/bin/env python3
"""tools/aws_endpoints.py — writes modules/aws/endpoints.json, the partition
and endpoint data the engine resolves hosts and signing regions from, as the
subset of botocore's endpoints.json (the reference AWS publishes with its
SDKs) that covers the services iasql calls. A developer tool: run it when
botocore's data changes, and commit the result.

    python3 tools/aws_endpoints.py [path/to/botocore/data/endpoints.json]

Region patterns are rewritten from Python's syntax to POSIX extended
regular expressions (\\d, \\w and \\- have no meaning there)."""
import glob
import gzip
import json
import os
import sys

# botocore's service folders of the services iasql calls
SERVICES = ["acm", "apigatewayv2", "cloudwatch", "dynamodb", "ec2", "ecr", "ecs", "elbv2", "iam", "kinesis", "lambda", "logs", "rds",
            "resourcegroupstaggingapi", "route53", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts"]


def posix(regex):
    return regex.replace("\\-", "-").replace("\\d", "[0-9]").replace("\\w", "[A-Za-z0-9_]")


def find_source():
    for pattern in [os.path.expanduser("~/.pyenv/versions/3.11*/lib/python3.11/site-packages/botocore/data/endpoints.json"),
                    "/usr/lib/python3/dist-packages/botocore/data/endpoints.json",
                    "/usr/lib/python3/dist-packages/awscli/botocore/data/endpoints.json"]:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[-1]
    sys.exit("no botocore endpoints.json found: give its path")


def metadata(data_dir, name):
    """A service's signing name, endpoint prefix and service id, from its newest model."""
    models = sorted(glob.glob(os.path.join(data_dir, name, "*", "service-2.json*")))
    if not models:
        sys.exit("no service model for %s under %s" % (name, data_dir))
    f = models[-1]
    m = json.load(gzip.open(f) if f.endswith(".gz") else open(f))["metadata"]
    return m.get("signingName") or m["endpointPrefix"], m["endpointPrefix"], m["serviceId"]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else find_source()
    data = json.load(open(src))
    out = {"source": "botocore endpoints.json, version %s" % data.get("version"), "partitions": [],
           "signing": {}}
    prefixes = []
    for name in SERVICES:
        signing, prefix, sid = metadata(os.path.dirname(src), name)
        # what a request names (its signing name) -> the endpoint key and the
        # AWS_ENDPOINT_URL_<SERVICE ID> suffix
        out["signing"][signing] = {"endpointPrefix": prefix, "serviceId": sid}
        prefixes.append(prefix)
    for p in data["partitions"]:
        q = {"partition": p["partition"], "dnsSuffix": p["dnsSuffix"],
             "regionRegex": posix(p["regionRegex"]), "regions": sorted(p["regions"]),
             "defaults": {k: v for k, v in p["defaults"].items() if k in ("hostname", "variants")},
             "services": {}}
        for name in prefixes:
            s = p["services"].get(name)
            if s is None:
                continue
            keep = {k: v for k, v in s.items() if k in ("partitionEndpoint", "isRegionalized")}
            if "defaults" in s:
                keep["defaults"] = {k: v for k, v in s["defaults"].items()
                                    if k in ("hostname", "variants", "credentialScope")}
            keep["endpoints"] = {r: {k: v for k, v in e.items()
                                     if k in ("hostname", "variants", "credentialScope")}
                                 for r, e in s.get("endpoints", {}).items()}
            q["services"][name] = keep
        out["partitions"].append(q)
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "modules", "aws", "endpoints.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s from %s" % (os.path.normpath(dest), src))


if __name__ == "__main__":
    main()
