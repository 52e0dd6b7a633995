//! `orgform sandbox serve` over real loopback HTTP: signatures (v2 and v1), bearer
//! tokens, read-only keys, pages, the rate limit, injected faults, SIGTERM, and
//! `sandbox key add`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use orgform::sandbox::openssh;
use orgform::sandbox::server::faults::{Fault, Faults};
use orgform::sandbox::server::signature::{sign_v1, sign_v2};
use orgform::sandbox::store::{Access, Store};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::util::{TempRepo, orgform};

const PROJECT: &str = "00000001-0000-4000-8000-00000000a001";
const DATASET: &str = "00000002-0000-4000-8000-00000000b001";

/// A sandbox org with an admin, a member and a few users, projects and datasets.
fn org() -> TempRepo {
    let repo = TempRepo::new();
    repo.write(
        "sandbox.yaml",
        format!(
            "users:
  - {{ email: admin@example.com, role: admin, type: internal }}
  - {{ email: ada@example.com, role: member, type: internal }}
  - {{ email: bob@example.com, role: member, type: internal }}
  - {{ email: cy@example.com, role: member, type: internal }}
  - {{ email: dee@example.com, role: collaborator, type: external }}
projects:
  - {{ name: Lung CT, hash: {PROJECT}, access: [{{ user: admin@example.com, role: admin }}] }}
datasets:
  - {{ name: scans, hash: {DATASET}, access: [{{ user: admin@example.com, role: admin }}] }}
"
        ),
    );
    repo
}

/// Registers a generated key for `email`; returns the signing key.
fn key(repo: &TempRepo, email: &str, name: &str, read_only: bool) -> SigningKey {
    let mut args = vec!["sandbox", "key", "add", email, "--generate", name];
    if read_only {
        args.push("--read-only");
    }
    let run = orgform(repo.path(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pem = std::fs::read_to_string(repo.path().join(name)).expect("private key");
    openssh::parse_private_key(&pem).expect("an OpenSSH Ed25519 key")
}

/// A running `orgform sandbox serve`; killed when dropped if still running.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
            .arg("-C")
            .arg(dir)
            .args(["sandbox", "serve"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("orgform starts");
        let url = crate::support::serve::listening_url(&mut child);
        Server { child, url }
    }

    /// Sends SIGTERM and waits (bounded) for the exit; returns (exit code, stderr).
    fn stop(mut self) -> (Option<i32>, String) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling our own child process by its id.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break Some(status);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        (status.and_then(|s| s.code()), stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        // A fresh connection per request: a dropped connection never affects the next.
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

fn now() -> i64 {
    orgform::sandbox::server::auth::now()
}

/// A v2 request signed as Encord's SDK signs it (created = now unless given).
fn v2(
    server: &Server,
    key: &SigningKey,
    method: &str,
    target: &str,
    body: Option<&Value>,
    created: Option<i64>,
) -> reqwest::Result<Response> {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let signed = sign_v2(key, method, target, &bytes, created.unwrap_or_else(now));
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client()
        .request(method, format!("{}{target}", server.url))
        .header("Content-Digest", signed.content_digest)
        .header("Signature-Input", signed.signature_input)
        .header("Signature", signed.signature);
    if body.is_some() {
        req = req.header("Content-Type", "application/json").body(bytes);
    }
    req.send()
}

fn v1(server: &Server, authorization: &str, body: &Value, resource: &str) -> Response {
    client()
        .post(format!("{}/public", server.url))
        .header("Content-Type", "application/json")
        .header("ResourceID", resource)
        .header("Authorization", authorization)
        .body(body.to_string())
        .send()
        .expect("v1 request")
}

fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn store_groups(repo: &TempRepo) -> Vec<String> {
    let store = Store::open_existing(&repo.path().join(".orgform/sandbox.db"), Access::ReadOnly)
        .expect("store");
    store.read().expect("read").groups.keys().cloned().collect()
}

fn add_users_rpc(emails: &[&str]) -> Value {
    json!({
        "query_type": "projectusers",
        "query_method": "POST",
        "values": { "uid": PROJECT, "payload": { "user_emails": emails, "user_role": 5 } },
    })
}

#[test]
fn requests_must_be_signed_by_a_registered_key_and_read_only_keys_never_write() {
    let repo = org();
    let admin = key(&repo, "admin@example.com", "admin.key", false);
    let reader = key(&repo, "admin@example.com", "plan.key", true);
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    let server = Server::start(repo.path(), &[]);
    let users = "/v2/public/organisation/users";
    let group = json!({"name": "g", "description": "d"});
    let groups = "/v2/public/organisation/groups";

    // Signed by a registered key: accepted.
    let (status, body) = json_of(v2(&server, &admin, "GET", users, None, None).expect("send"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(5));
    assert!(body["nextPageToken"].is_null() && body.get("nextPageToken").is_some());

    // v2: unsigned, unknown key, bad signature, stale and future `created`, tampered body.
    let unsigned = client()
        .get(format!("{}{users}", server.url))
        .send()
        .expect("send");
    let (status, body) = json_of(unsigned);
    assert_eq!(status, 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not signed"),
        "{body}"
    );
    let (status, body) = json_of(v2(&server, &stranger, "GET", users, None, None).expect("send"));
    assert_eq!(status, 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("orgform sandbox key add"),
        "{body}"
    );
    let forged = {
        let mut h = sign_v2(&stranger, "GET", users, b"", now());
        h.signature_input = sign_v2(&admin, "GET", users, b"", now()).signature_input;
        h
    };
    let (status, body) = json_of(
        client()
            .get(format!("{}{users}", server.url))
            .header("Content-Digest", forged.content_digest)
            .header("Signature-Input", forged.signature_input)
            .header("Signature", forged.signature)
            .send()
            .expect("send"),
    );
    assert_eq!(
        (status, body["message"].as_str()),
        (
            401,
            Some("the signature does not verify with the key it names")
        )
    );
    for created in [now() - 300, now() + 300] {
        let (status, body) =
            json_of(v2(&server, &admin, "GET", users, None, Some(created)).expect("send"));
        assert_eq!(status, 401, "created {created}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("away from the server's clock"),
            "{body}"
        );
    }
    // SDK 0.1.190 backdates `created` by 30 s: still accepted.
    let (status, _) =
        json_of(v2(&server, &admin, "GET", users, None, Some(now() - 30)).expect("send"));
    assert_eq!(status, 200);
    let signed = sign_v2(&admin, "POST", groups, group.to_string().as_bytes(), now());
    let (status, body) = json_of(
        client()
            .post(format!("{}{groups}", server.url))
            .header("Content-Digest", signed.content_digest)
            .header("Signature-Input", signed.signature_input)
            .header("Signature", signed.signature)
            .body(json!({"name": "tampered", "description": "d"}).to_string())
            .send()
            .expect("send"),
    );
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Content-Digest does not match the request body"))
    );

    // Read-only: reads pass, every write is 403 (v2, and v1 whatever the HTTP method).
    let (status, _) = json_of(v2(&server, &reader, "GET", users, None, None).expect("send"));
    assert_eq!(status, 200);
    let (status, body) =
        json_of(v2(&server, &reader, "POST", groups, Some(&group), None).expect("send"));
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{body}"
    );
    let rpc = add_users_rpc(&["ada@example.com"]);
    let (status, body) = json_of(v1(
        &server,
        &sign_v1(&reader, rpc.to_string().as_bytes()),
        &rpc,
        PROJECT,
    ));
    assert_eq!(status, 403);
    assert_eq!(body["response"], json!(["AUTHORISATION_ERROR"]), "{body}");
    let read = json!({"query_type": "dataset", "query_method": "GET", "values": {"uid": null, "payload": {}}});
    let (status, body) = json_of(v1(
        &server,
        &sign_v1(&reader, read.to_string().as_bytes()),
        &read,
        DATASET,
    ));
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!(200)),
        "{body}"
    );
    assert_eq!(body["response"]["dataset_hash"], json!(DATASET));

    // v1: unsigned, unknown key, tampered body.
    let (status, body) = json_of(
        client()
            .post(format!("{}/public", server.url))
            .body(rpc.to_string())
            .send()
            .expect("send"),
    );
    assert_eq!(
        (status, body["response"].clone()),
        (401, json!(["AUTHENTICATION_ERROR"]))
    );
    let (status, body) = json_of(v1(
        &server,
        &sign_v1(&stranger, rpc.to_string().as_bytes()),
        &rpc,
        PROJECT,
    ));
    assert_eq!(
        (status, body["response"].clone()),
        (401, json!(["AUTHENTICATION_ERROR"]))
    );
    let other = add_users_rpc(&["bob@example.com"]);
    let (status, body) = json_of(v1(
        &server,
        &sign_v1(&admin, rpc.to_string().as_bytes()),
        &other,
        PROJECT,
    ));
    assert_eq!(
        (status, body["response"].clone()),
        (401, json!(["AUTHENTICATION_ERROR"])),
        "{body}"
    );

    // Bearer tokens: issued to a signed request, then enough on their own.
    let (status, body) = json_of(
        v2(
            &server,
            &admin,
            "GET",
            "/v2/public/user/bearer-token",
            None,
            None,
        )
        .expect("send"),
    );
    assert_eq!(status, 200);
    let token = body["token"].as_str().expect("token").to_string();
    let with_token = client()
        .get(format!("{}{users}", server.url))
        .bearer_auth(&token)
        .send()
        .expect("send");
    assert_eq!(with_token.status().as_u16(), 200);
    let wrong = client()
        .get(format!("{}{users}", server.url))
        .bearer_auth("nope")
        .send()
        .expect("send");
    assert_eq!(wrong.status().as_u16(), 401);

    // A signed admin write lands; none of the refused ones did.
    let (status, body) =
        json_of(v2(&server, &admin, "POST", groups, Some(&group), None).expect("send"));
    assert_eq!((status, body["name"].as_str()), (200, Some("g")), "{body}");
    let (status, body) = json_of(v1(
        &server,
        &sign_v1(&admin, rpc.to_string().as_bytes()),
        &rpc,
        PROJECT,
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["response"],
        json!([{"user_email": "ada@example.com", "user_role": 5, "project_hash": PROJECT}])
    );
    let (_, stderr) = server.stop();
    assert_eq!(store_groups(&repo), vec!["g".to_string()]);
    // The log has one line per request and never a key or token.
    assert!(
        stderr.contains("GET /v2/public/organisation/users 401"),
        "{stderr}"
    );
    assert!(stderr.contains("POST /public 403"), "{stderr}");
    assert!(!stderr.contains(&token), "a bearer token was logged");
    assert!(
        !stderr.contains(&openssh::key_id(&admin.verifying_key())),
        "a key was logged"
    );
}

#[test]
fn platform_rules_answer_with_the_apis_statuses() {
    let repo = org();
    let admin = key(&repo, "admin@example.com", "admin.key", false);
    let member = key(&repo, "ada@example.com", "ada.key", false);
    let server = Server::start(repo.path(), &[]);
    let send = |k: &SigningKey, method: &str, target: &str, body: Option<Value>| {
        json_of(v2(&server, k, method, target, body.as_ref(), None).expect("send"))
    };
    let group = json!({"name": "labelers", "description": ""});
    assert_eq!(
        send(
            &admin,
            "POST",
            "/v2/public/organisation/groups",
            Some(group.clone())
        )
        .0,
        200
    );
    let (status, body) = send(
        &admin,
        "POST",
        "/v2/public/organisation/groups",
        Some(group),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("labelers"),
        "{body}"
    );
    let (status, body) = send(
        &admin,
        "DELETE",
        "/v2/public/organisation/users/admin%40example.com",
        None,
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("admins cannot be removed"),
        "{body}"
    );
    let (status, _) = send(
        &admin,
        "DELETE",
        "/v2/public/organisation/users/nobody%40example.com",
        None,
    );
    assert_eq!(status, 404);
    let (status, body) = send(
        &admin,
        "POST",
        "/v2/public/organisation/users",
        Some(
            json!({"email": "x@vendor.io", "roleMnemonicName": "ADMIN", "memberType": "external"}),
        ),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = send(
        &admin,
        "POST",
        "/v2/public/organisation/users",
        Some(
            json!({"email": "x@vendor.io", "roleMnemonicName": "TASKER", "memberType": "external"}),
        ),
    );
    assert_eq!(status, 204, "void writes answer 204, never 201");
    // A member reads nothing org-wide and only resources they administer.
    let (status, _) = send(&member, "GET", "/v2/public/organisation/users", None);
    assert_eq!(status, 403);
    let (status, body) = send(
        &member,
        "GET",
        "/v2/public/projects?includeOrgAccess=True",
        None,
    );
    assert_eq!((status, body["results"].clone()), (200, json!([])));
    let (status, _) = send(
        &member,
        "GET",
        &format!("/v2/public/projects/{PROJECT}/users"),
        None,
    );
    assert_eq!(status, 403);
    let (status, body) = send(
        &admin,
        "GET",
        "/v2/public/projects/00000000-0000-4000-8000-000000000000",
        None,
    );
    assert_eq!(status, 404, "{body}");
}

#[test]
fn lists_are_paged_with_tokens_up_to_the_page_size_cap() {
    let repo = org();
    let admin = key(&repo, "admin@example.com", "admin.key", false);
    let server = Server::start(repo.path(), &["--page-size-max", "2"]);
    let read =
        |target: &str| json_of(v2(&server, &admin, "GET", target, None, None).expect("send")).1;
    let mut emails = Vec::new();
    let mut target = "/v2/public/organisation/users".to_string();
    let mut pages = 0;
    loop {
        let page = read(&target);
        let results = page["results"].as_array().expect("results").clone();
        assert!(results.len() <= 2, "capped at 2: {page}");
        emails.extend(
            results
                .iter()
                .map(|u| u["email"].as_str().unwrap_or_default().to_string()),
        );
        pages += 1;
        match page["nextPageToken"].as_str() {
            Some(token) => target = format!("/v2/public/organisation/users?pageToken={token}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        emails,
        [
            "ada@example.com",
            "admin@example.com",
            "bob@example.com",
            "cy@example.com",
            "dee@example.com"
        ]
    );
    let one = read("/v2/public/organisation/users?pageSize=1");
    assert_eq!(one["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["nextPageToken"], json!("1"));
    let capped = read("/v2/public/organisation/users?pageSize=100");
    assert_eq!(capped["results"].as_array().map(Vec::len), Some(2));
    let (status, body) = json_of(
        v2(
            &server,
            &admin,
            "GET",
            "/v2/public/organisation/users?pageToken=x",
            None,
            None,
        )
        .expect("send"),
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn beyond_the_rate_limit_requests_get_429_with_retry_after() {
    let repo = org();
    let admin = key(&repo, "admin@example.com", "admin.key", false);
    let server = Server::start(repo.path(), &["--rate-limit", "2/s"]);
    let target = "/v2/public/organisation/users";
    let statuses: Vec<Response> = (0..6)
        .map(|_| v2(&server, &admin, "GET", target, None, None).expect("send"))
        .collect();
    let limited: Vec<&Response> = statuses
        .iter()
        .filter(|r| r.status().as_u16() == 429)
        .collect();
    assert!(!limited.is_empty(), "6 requests at once exceed 2/s");
    let retry_after = limited[0]
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .expect("Retry-After");
    assert!(
        retry_after.chars().all(|c| c.is_ascii_digit()),
        "{retry_after}"
    );
    let wait: u64 = retry_after.parse().expect("seconds");
    assert!(wait >= 1);
    std::thread::sleep(Duration::from_secs(wait));
    let after = v2(&server, &admin, "GET", target, None, None).expect("send");
    assert_eq!(after.status().as_u16(), 200);
}

/// What a client observed of one request.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Status(u16),
    Dropped,
    Slow(u16),
}

fn observe(server: &Server, key: &SigningKey, name: &str) -> Seen {
    let start = Instant::now();
    let body = json!({"name": name, "description": ""});
    match v2(
        server,
        key,
        "POST",
        "/v2/public/organisation/groups",
        Some(&body),
        None,
    ) {
        Ok(r) if start.elapsed() >= Duration::from_millis(1400) => Seen::Slow(r.status().as_u16()),
        Ok(r) => Seen::Status(r.status().as_u16()),
        Err(_) => Seen::Dropped,
    }
}

#[test]
fn injected_faults_are_reproducible_from_the_seed() {
    const SEED: u64 = 11;
    // Every request is faulted (rate 1): the first requests until every kind occurred.
    let expected: Vec<Fault> = {
        let mut out = Vec::new();
        for n in 0.. {
            out.push(Faults::nth(SEED, 1.0, n, true).expect("rate 1 faults every request"));
            let kinds = [
                Fault::Status(500),
                Fault::Status(502),
                Fault::Status(503),
                Fault::Drop,
                Fault::Slow,
                Fault::LostWrite,
            ];
            if kinds.iter().all(|k| out.contains(k)) || n > 40 {
                break;
            }
        }
        out
    };
    assert!(
        expected.len() <= 40,
        "seed {SEED} reaches every kind quickly"
    );
    for run in 0..2 {
        let repo = org();
        let admin = key(&repo, "admin@example.com", "admin.key", false);
        let seed = SEED.to_string();
        let server = Server::start(repo.path(), &["--faults", "1", "--seed", &seed]);
        let seen: Vec<Seen> = (0..expected.len())
            .map(|i| observe(&server, &admin, &format!("g{i}")))
            .collect();
        let (code, stderr) = server.stop();
        assert_eq!(code, Some(0));
        let want: Vec<Seen> = expected
            .iter()
            .map(|f| match f {
                Fault::Status(s) => Seen::Status(*s),
                Fault::Drop | Fault::LostWrite => Seen::Dropped,
                Fault::Slow => Seen::Slow(200),
            })
            .collect();
        assert_eq!(seen, want, "run {run}:\n{stderr}");
        // Only slow requests and lost writes were performed.
        let mut performed: Vec<String> = expected
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f, Fault::Slow | Fault::LostWrite))
            .map(|(i, _)| format!("g{i}"))
            .collect();
        performed.sort();
        assert_eq!(store_groups(&repo), performed, "run {run}");
        assert!(
            stderr.contains("fault: write done, response lost, performed with 200"),
            "{stderr}"
        );
    }
}

#[test]
fn sigterm_stops_the_server_cleanly_and_a_wide_listen_address_is_refused() {
    let repo = org();
    let admin = key(&repo, "admin@example.com", "admin.key", false);
    let server = Server::start(repo.path(), &[]);
    let url = server.url.clone();
    assert_eq!(
        v2(
            &server,
            &admin,
            "GET",
            "/v2/public/organisation/users",
            None,
            None
        )
        .expect("send")
        .status()
        .as_u16(),
        200
    );
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.trim_end().ends_with("Stopped."), "{stderr}");
    assert!(
        client()
            .get(format!("{url}/v2/public/organisation/users"))
            .send()
            .is_err()
    );
    let wide = orgform(repo.path(), &["sandbox", "serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(wide.code, 1);
    assert!(wide.stderr.contains("loopback only"), "{}", wide.stderr);
}

#[test]
fn key_add_registers_generated_and_given_keys_and_names_every_problem() {
    let repo = org();
    key(&repo, "admin@example.com", "admin.key", false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(repo.path().join("admin.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let public = std::fs::read_to_string(repo.path().join("admin.key.pub")).expect("pub");
    assert!(
        public.starts_with("ssh-ed25519 AAAA") && public.trim_end().ends_with("admin@example.com")
    );
    let again = orgform(
        repo.path(),
        &[
            "sandbox",
            "key",
            "add",
            "ada@example.com",
            "--generate",
            "admin.key",
        ],
    );
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("never overwrites a key"),
        "{}",
        again.stderr
    );
    let unknown = orgform(
        repo.path(),
        &[
            "sandbox",
            "key",
            "add",
            "ghost@example.com",
            "--generate",
            "ghost.key",
        ],
    );
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("`ghost@example.com` is not a user of the sandbox org"),
        "{}",
        unknown.stderr
    );
    assert!(
        !repo.path().join("ghost.key").exists(),
        "a refused key leaves no file"
    );
    let dup = orgform(
        repo.path(),
        &[
            "sandbox",
            "key",
            "add",
            "ada@example.com",
            "--public-key",
            "admin.key.pub",
        ],
    );
    assert_eq!(dup.code, 1);
    assert!(
        dup.stderr
            .contains("already registered for `admin@example.com`"),
        "{}",
        dup.stderr
    );
    repo.write(
        "rsa.pub",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ me@host\n",
    );
    let rsa = orgform(
        repo.path(),
        &[
            "sandbox",
            "key",
            "add",
            "ada@example.com",
            "--public-key",
            "rsa.pub",
        ],
    );
    assert_eq!(rsa.code, 1);
    assert!(
        rsa.stderr.contains("rsa.pub") && rsa.stderr.contains("not an Ed25519 key"),
        "{}",
        rsa.stderr
    );
    let other = SigningKey::from_bytes(&[3u8; 32]);
    repo.write(
        "ada.pub",
        openssh::public_key_line(&other.verifying_key(), "ada"),
    );
    let given = orgform(
        repo.path(),
        &[
            "sandbox",
            "key",
            "add",
            "ada@example.com",
            "--public-key",
            "ada.pub",
            "--read-only",
        ],
    );
    assert_eq!(given.code, 0, "{}", given.stderr);
    assert!(
        given.stderr.contains("Registered read-only key"),
        "{}",
        given.stderr
    );
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_the_server_answers() {
    let text =
        std::fs::read_to_string(crate::util::repo_root().join("schemas/encord-openapi.yaml"))
            .expect("schemas/encord-openapi.yaml");
    let mut sources = orgform::diagnostic::Sources::default();
    let file = sources.add("encord-openapi.yaml", text.clone());
    let node = orgform::yaml::parse(&text, file)
        .expect("YAML")
        .expect("a document");
    let doc: Value = orgform::yaml::from_node(&node).expect("JSON");
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            assert!(
                op["responses"].is_object(),
                "{method} {path} documents its responses"
            );
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = orgform::sandbox::server::routes::registered()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    served.sort();
    assert_eq!(
        documented, served,
        "schemas/encord-openapi.yaml and the router differ"
    );
}
