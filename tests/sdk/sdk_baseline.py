"""The baseline for the HTTP benchmark: what orgform reads to plan an org, read the way a
user of Encord's SDK (encord==0.1.211) would write it — sequentially, one call after
another, each listing paged by the SDK itself — against `orgform sandbox serve`.

Reads: org users; groups, then each group's members; organisation tags; the metadata
schema; storage folders from the top level down (`list_subfolders` of every folder, in
the SDK's pages of 100); projects, then each project's users, groups and tags (the tag
assignments); datasets, then each dataset (`get_dataset`) with its users and groups;
ontologies and their groups.

Usage:
  python tests/sdk/sdk_baseline.py PATH/TO/orgform ORG_DIR [--admin EMAIL] [--latency MS]
                                   [--page-size-max N] [--json] [--check]

ORG_DIR is an org repository with a sandbox org (created from ORG_DIR/sandbox.yaml when
missing), e.g. one written by `cargo run --example synth_org`. The script registers a key
for the org admin (default user00000@acme.com, the synthetic org's admin), serves the
sandbox on loopback, reads, stops the server, and counts the calls from the server's
request log (one stderr line per request). It prints the wall time of the reads, the
calls in total and per endpoint (ids shown as {id}), and how many objects it read;
`--json` prints the same as one JSON object. `--check` compares what was read with
ORG_DIR/sandbox.yaml (for a sandbox fresh from it) and exits 1 when anything is missing.
"""

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from encord import EncordUserClient

REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (\S+) (\d{3}|dropped)")
ID = re.compile(r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                r"|/[^/]+%40[^/]+|/[^/]+@[^/]+")


def orgform(binary, repo, *args):
    run = subprocess.run([binary, "-C", str(repo), *args], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    if run.returncode != 0:
        sys.exit(f"orgform {' '.join(args)} exited {run.returncode}:\n{run.stderr}")
    return run


def read_org(client):
    """Everything orgform reads to plan, the SDK way. Returns the counts of what was read."""
    n = Counter()
    n["users"] = len(client.list_organisation_users())
    for group in client.list_groups():
        n["groups"] += 1
        n["group members"] += len(list(group.list_users()))
    n["tags"] = len(client.list_organisation_tags())
    schema = client.metadata_schema()
    n["metadata keys"] = len(schema.keys())

    def folders(listing):
        for folder in listing:
            n["folders"] += 1
            folders(folder.list_subfolders())

    folders(client.list_storage_folders(org_access=True))
    for project in client.list_projects(include_org_access=True):
        n["projects"] += 1
        n["access"] += len(list(project.list_users()))
        n["access"] += len(list(project.list_groups()))
        n["tag assignments"] += len(project.get_organisation_tags())
    for row in client.get_datasets(include_org_access=True):
        n["datasets"] += 1
        dataset = client.get_dataset(row["dataset"].dataset_hash)
        n["access"] += len(list(dataset.list_users()))
        n["access"] += len(list(dataset.list_groups()))
    for row in client.get_ontologies(include_org_access=True):
        n["ontologies"] += 1
        n["access"] += len(list(row["ontology"].list_groups()))
    return n


def expected_from_state(path):
    """What a sandbox created from the state file holds, counted as read_org counts."""
    import yaml

    state = yaml.safe_load(path.read_text()) or {}

    def folders(entries):
        return sum(1 + folders(f.get("folders")) for f in entries or [])

    projects = state.get("projects") or []
    datasets = state.get("datasets") or []
    ontologies = state.get("ontologies") or []
    n = Counter()
    n["users"] = len(state.get("users") or [])
    n["groups"] = len(state.get("groups") or [])
    n["group members"] = sum(len(g.get("members") or []) for g in state.get("groups") or [])
    n["tags"] = len(state.get("project_tags") or [])
    n["metadata keys"] = len(state.get("metadata_schema") or {})
    n["folders"] = folders(state.get("folders"))
    n["projects"] = len(projects)
    n["datasets"] = len(datasets)
    n["ontologies"] = len(ontologies)
    n["access"] = sum(len(r.get("access") or []) for r in projects + datasets + ontologies)
    n["tag assignments"] = sum(len(p.get("tags") or []) for p in projects)
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("orgform")
    parser.add_argument("org_dir", type=Path)
    parser.add_argument("--admin", default="user00000@acme.com")
    parser.add_argument("--latency", type=int, default=0, help="ms the server adds to each answer")
    parser.add_argument("--page-size-max", type=int, help="the server's largest page")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check", action="store_true", help="compare with ORG_DIR/sandbox.yaml")
    args = parser.parse_args()
    repo = args.org_dir.resolve()

    if not (repo / ".orgform" / "sandbox.db").exists():
        orgform(args.orgform, repo, "sandbox", "init", "--from", "sandbox.yaml")
    work = Path(tempfile.mkdtemp(prefix="orgform-sdk-baseline-"))
    key_path = work / "admin.key"
    orgform(args.orgform, repo, "sandbox", "key", "add", args.admin, "--generate", str(key_path))

    serve = [args.orgform, "-C", str(repo), "sandbox", "serve", "--latency", str(args.latency)]
    if args.page_size_max:
        serve += ["--page-size-max", str(args.page_size_max)]
    log_path = work / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=log,
                                  stdin=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline().strip()
        if not first.startswith("listening on http://127.0.0.1:"):
            sys.exit(f"the server did not start: {first!r}\n{log_path.read_text()}")
        url = first.removeprefix("listening on ")
        client = EncordUserClient.create_with_ssh_private_key(key_path.read_text(), domain=url)
        start = time.monotonic()
        counts = read_org(client)
        wall = time.monotonic() - start
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    calls = Counter()
    for line in log_path.read_text().splitlines():
        m = REQUEST.match(line)
        if m:
            calls[f"{m.group(1)} {ID.sub('/{id}', m.group(2))}"] += 1
    total = sum(calls.values())
    if args.check:
        want = expected_from_state(repo / "sandbox.yaml")
        missing = {k: (counts[k], v) for k, v in want.items() if counts[k] != v}
        if missing:
            sys.exit("read differs from sandbox.yaml (read, expected): "
                     + ", ".join(f"{k} {a} != {b}" for k, (a, b) in missing.items()))
    if args.json:
        print(json.dumps({"wall_seconds": wall, "calls": total, "calls_per_endpoint": dict(calls),
                          "read": dict(counts), "latency_ms": args.latency}))
        return
    print(f"SDK baseline (encord==0.1.211, sequential) against {repo} at {args.latency} ms latency")
    print(f"  wall time of the reads  {wall:.2f} s")
    print(f"  API calls               {total}")
    for endpoint, count in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {count:>7}  {endpoint}")
    print("  read: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
