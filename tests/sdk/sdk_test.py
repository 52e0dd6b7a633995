"""Encord's own Python SDK (encord==0.1.211) against `orgform sandbox serve`.

Starts the server on an ephemeral loopback port over a fresh sandbox org, drives the
SDK through every endpoint group orgform uses (org users; groups and members; tags and
project tags; the metadata schema; storage folders; project, dataset, ontology and
folder access; listing resources; keys: read-only, non-admin, bearer tokens), asserts
what the SDK returns, stops the server with SIGTERM, and checks with `orgform export`
that the writes landed in the sandbox store.

Usage: python tests/sdk/sdk_test.py PATH/TO/orgform
Ends with a line `N passed, N failed`; exits 1 when anything failed.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import yaml
from encord import EncordUserClient
from encord.exceptions import (
    AuthenticationError,
    AuthorisationError,
    InvalidArgumentsError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from encord.http.bundle import Bundle
from encord.metadata_schema import MetadataSchemaError
from encord.utilities.project_user import ProjectUserRole
from encord.orm.dataset import DatasetUserRole
from encord.utilities.ontology_user import OntologyUserRole
from encord.orm.storage import StorageUserRole

ORGFORM = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "orgform"

PROJECT = "00000001-0000-4000-8000-00000000a001"
OTHER_PROJECT = "00000001-0000-4000-8000-00000000a002"
DATASET = "00000002-0000-4000-8000-00000000b001"
ONTOLOGY = "00000003-0000-4000-8000-00000000c001"

STATE = f"""
users:
  - {{ email: admin@example.com, role: admin, type: internal }}
  - {{ email: ada@example.com, role: member, type: internal }}
  - {{ email: lee@example.com, role: member, type: internal }}
groups:
  - {{ name: reviewers, description: Reviewers, members: [lee@example.com] }}
project_tags:
  - {{ name: legacy }}
metadata_schema:
  old_key: text
  site: {{ enum: [a, b] }}
folders:
  - {{ name: inbox, description: Incoming }}
projects:
  - name: Lung CT
    hash: {PROJECT}
    tags: [legacy]
    access: [{{ user: admin@example.com, role: admin }}]
  - name: Knee MRI
    hash: {OTHER_PROJECT}
    access: [{{ user: lee@example.com, role: admin }}]
datasets:
  - name: scans
    hash: {DATASET}
    access: [{{ user: admin@example.com, role: admin }}]
ontologies:
  - name: anatomy
    hash: {ONTOLOGY}
"""

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
    except Exception:  # report every failure, keep going
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc()
    else:
        passed += 1
        print(f"ok   {name}")


def raises(exc, fn):
    try:
        fn()
    except exc:
        return
    raise AssertionError(f"expected {exc.__name__}")


def orgform(repo, *args):
    run = subprocess.run([ORGFORM, "-C", str(repo), *args], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, f"orgform {' '.join(args)} exited {run.returncode}:\n{run.stderr}"
    return run


def main():
    tmp = Path(tempfile.mkdtemp(prefix="orgform-sdk-"))
    (tmp / "org").mkdir()
    (tmp / "orgform.yaml").write_text("manifests: org/\n")
    (tmp / "state.yaml").write_text(STATE)
    orgform(tmp, "sandbox", "init", "--from", "state.yaml")
    orgform(tmp, "sandbox", "key", "add", "admin@example.com", "--generate", "admin.key")
    orgform(tmp, "sandbox", "key", "add", "admin@example.com", "--generate", "plan.key", "--read-only")
    orgform(tmp, "sandbox", "key", "add", "lee@example.com", "--generate", "lee.key")
    assert oct((tmp / "admin.key").stat().st_mode & 0o777) == "0o600"

    server = subprocess.Popen([ORGFORM, "-C", str(tmp), "sandbox", "serve"], stdout=subprocess.PIPE,
                              stderr=open(tmp / "server.log", "w"), stdin=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        url = first.removeprefix("listening on ")
        run_checks(tmp, url)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            code = None
    check("SIGTERM stops the server cleanly", lambda: assert_equal(code, 0))
    log = (tmp / "server.log").read_text()
    check("the request log names method, path, status and never a key", lambda: check_log(tmp, log))
    check("orgform export shows every write in the sandbox store", lambda: check_export(tmp))


def assert_equal(a, b):
    assert a == b, f"{a!r} != {b!r}"


def check_log(tmp, log):
    assert "GET /v2/public/organisation/users 200" in log, log[:2000]
    assert "POST /public 200" in log or "POST /public/user 200" in log, log[:2000]
    for key in ("admin.key", "plan.key", "lee.key"):
        text = (tmp / key).read_text()
        secret_lines = [l for l in text.splitlines() if l and not l.startswith("-----")]
        for line in secret_lines:
            assert line not in log, "a private key line is in the log"
        public_b64 = (tmp / (key + ".pub")).read_text().split()[1]
        assert public_b64 not in log


def run_checks(tmp, url):
    key = (tmp / "admin.key").read_text()
    client = EncordUserClient.create_with_ssh_private_key(key, domain=url)

    # ---------------------------------------------------------------- org users
    def users():
        emails = {u.email: u for u in client.list_organisation_users()}
        assert emails["admin@example.com"].role_mnemonic_name == "ADMIN"
        assert emails["ada@example.com"].member_type == "internal"
        client.add_organisation_user("new@example.com", role_mnemonic_name="MEMBER", member_type="internal")
        client.add_organisation_user("vendor@partner.io", role_mnemonic_name="TASKER", member_type="external")
        raises(ResourceExistsError, lambda: client.add_organisation_user(
            "NEW@example.com", role_mnemonic_name="MEMBER", member_type="internal"))
        raises(InvalidArgumentsError, lambda: client.add_organisation_user(
            "boss@partner.io", role_mnemonic_name="ADMIN", member_type="external"))
        emails = {u.email: u for u in client.list_organisation_users()}
        assert emails["vendor@partner.io"].role_mnemonic_name == "TASKER"
        assert emails["vendor@partner.io"].member_type == "external"
        client.add_organisation_user("gone@partner.io", role_mnemonic_name="TASKER", member_type="external")
        client.remove_organisation_user("gone@partner.io")
        assert "gone@partner.io" not in {u.email for u in client.list_organisation_users()}
        raises(ResourceNotFoundError, lambda: client.remove_organisation_user("nobody@example.com"))
        raises(AuthorisationError, lambda: client.remove_organisation_user("admin@example.com"))
    check("org users: list, add, duplicate 409, admin rules, remove", users)

    # ---------------------------------------------------------------- groups
    state = {}

    def groups():
        g = client.create_group("labelers", "Label team")
        assert g.name == "labelers" and g.description == "Label team"
        state["labelers"] = g.group_hash
        assert "labelers" in {x.name for x in client.list_groups()}
        raises(ResourceExistsError, lambda: client.create_group("labelers"))
        got = client.get_group(g.group_hash)
        got.update_group(name="labelers-eu", description="EU label team")
        again = client.get_group(g.group_hash)
        assert again.name == "labelers-eu" and again.description == "EU label team"
        members = again.add_users(["ada@example.com", "new@example.com"])
        assert {m.user_email for m in members} == {"ada@example.com", "new@example.com"}
        again.remove_users(["new@example.com", "unknown@example.com"])
        assert [m.user_email for m in again.list_users()] == ["ada@example.com"]
        raises(AuthorisationError, lambda: again.add_users(["stranger@example.com"]))
        temp = client.create_group("temporary")
        client.delete_group(temp.group_hash)
        assert "temporary" not in {x.name for x in client.list_groups()}
        raises(ResourceNotFoundError, lambda: client.get_group(temp.group_hash))
    check("groups: create, rename, describe, members, delete", groups)

    # ---------------------------------------------------------------- tags
    def tags():
        tag = client.create_organisation_tag("oncology", description="Cancer projects")
        assert tag.name == "oncology"
        raises(ResourceExistsError, lambda: client.create_organisation_tag("ONCOLOGY"))
        names = {t.name for t in client.list_organisation_tags()}
        assert {"oncology", "legacy"} <= names, names
        project = client.get_project(PROJECT)
        project.add_organisation_tag(tag_name="oncology")
        project.add_organisation_tag(tag_uuid=tag.uuid)  # idempotent
        assert {t.name for t in project.get_organisation_tags(use_cache=False)} == {"legacy", "oncology"}
        project.remove_organisation_tag(tag_name="legacy")
        assert {t.name for t in project.get_organisation_tags(use_cache=False)} == {"oncology"}
        throwaway = client.create_organisation_tag("throwaway")
        client.get_project(OTHER_PROJECT).add_organisation_tag(tag_uuid=throwaway.uuid)
        client.delete_organisation_tag(tag_uuid=throwaway.uuid)
        assert "throwaway" not in {t.name for t in client.list_organisation_tags()}
        tagged = {p.title for p in client.list_projects(include_org_access=True, tags_anyof=["oncology"])}
        assert tagged == {"Lung CT"}, tagged
    check("tags: create, duplicate 409, attach, detach, delete, tagsAnyof", tags)

    # ---------------------------------------------------------------- metadata schema
    def metadata():
        schema = client.metadata_schema()
        assert set(schema.keys()) >= {"old_key", "site"}, schema.keys()
        schema.add_scalar("patient_age", data_type="number")
        schema.add_scalar("notes", data_type="long_string")
        schema.add_enum("body_part", values=["knee", "lung"])
        schema.add_embedding("clip", size=512)
        schema.add_geospatial("where")
        schema.delete_key("old_key")
        schema.save()
        again = client.metadata_schema()
        assert again.is_key_deleted("old_key")
        assert again.get_key_type("patient_age") == "number"
        assert again.get_enum_options("body_part") == ["knee", "lung"]
        assert again.get_embedding_size("clip") == 512
        assert again.has_key("where")
        again.restore_key("old_key")
        again.save()
        assert not client.metadata_schema().is_key_deleted("old_key")
        largest = client.metadata_schema()
        largest.add_embedding("huge", size=4096)
        largest.save()
        assert client.metadata_schema().get_embedding_size("huge") == 4096
    check("metadata schema: scalars, enum, embedding, geospatial, tombstones", metadata)

    def metadata_cleanup():
        schema = client.metadata_schema()
        schema.delete_key("huge", hard=True)
        schema.save()
        again = client.metadata_schema()
        assert again.is_key_deleted("huge")
        raises(MetadataSchemaError, lambda: again.restore_key("huge"))
    check("metadata schema: a hard delete cannot be restored", metadata_cleanup)

    # ---------------------------------------------------------------- storage folders
    def folders():
        raw = client.create_storage_folder("raw", description="Raw data", client_metadata={"source": "scanner"})
        assert raw.name == "raw" and raw.description == "Raw data"
        assert raw.client_metadata == {"source": "scanner"}, raw.client_metadata
        child = raw.create_subfolder("2026", description="This year")
        assert child.parent_uuid if hasattr(child, "parent_uuid") else True
        raises(ResourceExistsError, lambda: raw.create_subfolder("2026"))
        top = {f.name for f in client.list_storage_folders(org_access=True)}
        assert {"raw", "inbox"} <= top and "2026" not in top, top
        assert [f.name for f in raw.list_subfolders()] == ["2026"]
        assert [f.name for f in raw.find_subfolders(search="20")] == ["2026"]
        assert [f.name for f in client.find_storage_folders(search="202")] == ["2026"]
        raw.update(name="raw-data", client_metadata={"source": "pacs"})
        got = client.get_storage_folder(raw.uuid)
        assert got.name == "raw-data" and got.client_metadata == {"source": "pacs"}
        archive = client.create_storage_folder("archive")
        with Bundle() as bundle:
            archive.update(description="Old data", bundle=bundle)
        assert client.get_storage_folder(archive.uuid).description == "Old data"
        client.get_storage_folder(child.uuid).move_to_folder(archive.uuid)
        assert [f.name for f in client.get_storage_folder(archive.uuid).list_subfolders()] == ["2026"]
        assert list(client.get_storage_folder(raw.uuid).list_subfolders()) == []
        raises(InvalidArgumentsError, lambda: client.get_storage_folder(archive.uuid).move_to_folder(child.uuid))
        scratch = client.create_storage_folder("scratch")
        scratch.delete()
        raises(ResourceNotFoundError, lambda: client.get_storage_folder(scratch.uuid))
        state["archive"] = archive.uuid
        # Folder group access.
        folder = client.get_storage_folder(archive.uuid)
        folder.add_group(state["labelers"], StorageUserRole.ADMIN)
        assert [(g.name, g.user_role) for g in folder.list_groups()] == [("labelers-eu", StorageUserRole.ADMIN)]
        folder.remove_group(state["labelers"])
        assert list(folder.list_groups()) == []
        folder.add_group(state["labelers"], StorageUserRole.USER)
    check("storage folders: create, children, search, update, bulk patch, move, delete, groups", folders)

    # ---------------------------------------------------------------- resources and access
    def listings():
        mine = {p.title for p in client.list_projects()}
        assert mine == {"Lung CT"}, mine
        everything = {p.project_hash for p in client.list_projects(include_org_access=True)}
        assert {str(x) for x in everything} == {PROJECT, OTHER_PROJECT}
        datasets = client.get_datasets(include_org_access=True)
        assert [d["dataset"].title for d in datasets] == ["scans"], datasets
        assert [d["user_role"] for d in datasets] == [DatasetUserRole.ADMIN], datasets
        ontologies = client.get_ontologies(include_org_access=True)
        assert [o["ontology"].title for o in ontologies] == ["anatomy"], ontologies
        project = client.get_project(PROJECT)
        assert project.title == "Lung CT"
        assert client.get_ontology(ONTOLOGY).title == "anatomy"
        dataset = client.get_dataset(DATASET)
        assert dataset.title == "scans"
    check("listing projects, datasets and ontologies; get each", listings)

    def project_access():
        project = client.get_project(PROJECT)
        added = project.add_users(["ada@example.com"], ProjectUserRole.ANNOTATOR)
        assert [(u.user_email, u.user_role) for u in added] == [("ada@example.com", ProjectUserRole.ANNOTATOR)]
        # Already there: the role stays.
        again = project.add_users(["ada@example.com"], ProjectUserRole.VIEWER)
        assert [u.user_role for u in again] == [ProjectUserRole.ANNOTATOR]
        users = {u.user_email: u.user_role for u in project.list_users()}
        assert users == {"admin@example.com": ProjectUserRole.ADMIN, "ada@example.com": ProjectUserRole.ANNOTATOR}
        project.add_users(["new@example.com"], ProjectUserRole.VIEWER)
        project.remove_users(["new@example.com"])
        assert "new@example.com" not in {u.user_email for u in project.list_users()}
        project.add_group(state["labelers"], ProjectUserRole.REVIEWER)
        assert [(g.name, g.user_role) for g in project.list_groups()] == [("labelers-eu", ProjectUserRole.REVIEWER)]
        reviewers = next(g for g in client.list_groups() if g.name == "reviewers")
        project.add_group(reviewers.group_hash, ProjectUserRole.VIEWER)
        project.remove_group(reviewers.group_hash)
        assert [g.name for g in project.list_groups()] == ["labelers-eu"]
    check("project users (v1 add, v2 list/remove) and groups", project_access)

    def dataset_access():
        dataset = client.get_dataset(DATASET)
        dataset.add_users(["ada@example.com"], DatasetUserRole.USER)
        users = {u.user_email: u.user_role for u in dataset.list_users()}
        assert users == {"admin@example.com": DatasetUserRole.ADMIN, "ada@example.com": DatasetUserRole.USER}, users
        dataset.add_users(["new@example.com"], DatasetUserRole.USER)
        dataset.remove_users(["new@example.com"])
        assert "new@example.com" not in {u.user_email for u in dataset.list_users()}
        dataset.add_group(state["labelers"], DatasetUserRole.ADMIN)
        assert [(g.name, g.user_role) for g in dataset.list_groups()] == [("labelers-eu", DatasetUserRole.ADMIN)]
        dataset.remove_group(state["labelers"])
        assert list(dataset.list_groups()) == []
    check("dataset users (v1 add, v2 list/remove) and groups", dataset_access)

    def ontology_access():
        ontology = client.get_ontology(ONTOLOGY)
        ontology.add_group(state["labelers"], OntologyUserRole.USER)
        assert [(g.name, g.user_role) for g in ontology.list_groups()] == [("labelers-eu", OntologyUserRole.USER)]
    check("ontology groups", ontology_access)

    # ---------------------------------------------------------------- keys and permissions
    def read_only():
        ro = EncordUserClient.create_with_ssh_private_key((tmp / "plan.key").read_text(), domain=url)
        assert "admin@example.com" in {u.email for u in ro.list_organisation_users()}
        raises(AuthorisationError, lambda: ro.create_group("nope"))
        raises(AuthorisationError, lambda: ro.create_organisation_tag("nope"))
        raises(AuthorisationError, lambda: ro.get_project(PROJECT).add_users(["lee@example.com"], ProjectUserRole.VIEWER))
        assert ro.get_dataset(DATASET).title == "scans"  # a v1 read is allowed
    check("a read-only key reads and is refused every write (v1 and v2)", read_only)

    def non_admin():
        lee = EncordUserClient.create_with_ssh_private_key((tmp / "lee.key").read_text(), domain=url)
        raises(AuthorisationError, lambda: lee.list_organisation_users())
        raises(AuthorisationError, lambda: lee.list_groups().__next__())
        assert {p.title for p in lee.list_projects(include_org_access=True)} == {"Knee MRI"}
        raises(AuthorisationError, lambda: lee.get_project(PROJECT))
        knee = lee.get_project(OTHER_PROJECT)
        assert {u.user_email for u in knee.list_users()} == {"lee@example.com"}
    check("a member sees and changes only what they administer", non_admin)

    def bearer():
        token = client.get_bearer_token()
        assert token
        with_token = EncordUserClient.create_with_bearer_token(token, domain=url)
        assert "admin@example.com" in {u.email for u in with_token.list_organisation_users()}
        raises(AuthenticationError, lambda: EncordUserClient.create_with_bearer_token(
            "not-a-token", domain=url).list_organisation_users())
    check("bearer tokens from the signed endpoint", bearer)

    def unknown_key():
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives import serialization
        stranger = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()
        raises(AuthenticationError, lambda: EncordUserClient.create_with_ssh_private_key(
            stranger, domain=url).list_organisation_users())
    check("an unregistered key is refused", unknown_key)


def check_export(tmp):
    out = tmp / "exported"
    orgform(tmp, "export", "--out", "exported")
    doc = {}
    for f in sorted(out.glob("*.yaml")):
        loaded = yaml.safe_load(f.read_text()) or {}
        for k, v in loaded.items():
            doc[k] = v
    users = {u["email"]: u for u in doc["users"]}
    assert users["new@example.com"]["role"] == "member"
    assert users["vendor@partner.io"]["role"] == "collaborator"
    assert users["vendor@partner.io"].get("type") in ("external", None), users["vendor@partner.io"]
    assert "gone@partner.io" not in users
    groups = {g["name"]: g for g in doc["groups"]}
    assert groups["labelers-eu"]["members"] == ["ada@example.com"], groups["labelers-eu"]
    assert groups["labelers-eu"]["description"] == "EU label team"
    assert "temporary" not in groups
    tags = {t["name"] for t in doc["project_tags"]}
    assert tags == {"legacy", "oncology"}, tags
    schema = doc["metadata_schema"]
    assert schema["patient_age"] == "number" and schema["notes"] == "text", schema
    assert schema["body_part"] == {"enum": ["knee", "lung"]}, schema
    assert schema["clip"] == {"embedding": 512}
    assert "old_key" in schema and "huge" not in schema and "where" not in schema
    def names(folders, prefix=""):
        out = set()
        for f in folders or []:
            out.add(prefix + f["name"])
            out |= names(f.get("folders"), prefix + f["name"] + "/")
        return out
    assert names(doc["folders"]) == {"inbox", "raw-data", "archive", "archive/2026"}, names(doc["folders"])
    projects = {p["name"]: p for p in doc["projects"]}
    lung = projects["Lung CT"]
    assert lung["tags"] == ["oncology"], lung
    access = {(a.get("user") or "group:" + a.get("group", "")): a["role"] for a in lung["access"]}
    assert access == {"admin@example.com": "admin", "ada@example.com": "annotator",
                      "group:labelers-eu": "reviewer"}, access
    scans = {p["name"]: p for p in doc["datasets"]}["scans"]
    access = {(a.get("user") or "group:" + a.get("group", "")): a["role"] for a in scans["access"]}
    assert access == {"admin@example.com": "admin", "ada@example.com": "user"}, access
    anatomy = {p["name"]: p for p in doc["ontologies"]}["anatomy"]
    assert anatomy["access"] == [{"group": "labelers-eu", "role": "user"}], anatomy


if __name__ == "__main__":
    try:
        main()
    except Exception:
        failed += 1
        traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
