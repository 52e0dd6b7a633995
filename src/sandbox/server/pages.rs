//! Query strings and `{results, nextPageToken}` pages (encord-api.md §3, SPEC §7.12).

use axum::Json;
use serde::Serialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};

/// A decoded query string; repeated keys are kept (`groupHashList=a&groupHashList=b`).
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let Some(raw) = raw else {
            return Query::default();
        };
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean as the SDK sends it (`True`/`False`, from Python's requests) or
    /// lower-case.
    pub fn flag(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("True" | "true" | "1") => Ok(Some(true)),
            Some("False" | "false" | "0") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_request(format!(
                "query parameter `{key}` must be True or False, not `{other}`"
            ))),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One page of `items`: from `pageToken` (an offset this server issued), at most
/// `pageSize` capped by `--page-size-max`; without either, everything at once.
pub fn page<T: Serialize>(items: Vec<T>, q: &Query, max: Option<usize>) -> ApiResult<Json<Value>> {
    let start = match q.get("pageToken") {
        None | Some("") => 0,
        Some(t) => t.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!(
                "pageToken `{t}` was not issued by this server: start again without it"
            ))
        })?,
    };
    let asked = match q.get("pageSize") {
        None => None,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "pageSize must be a positive integer, not `{s}`"
                )));
            }
        },
    };
    let size = match (asked, max) {
        (Some(a), Some(m)) => a.min(m),
        (Some(a), None) => a,
        (None, Some(m)) => m,
        (None, None) => usize::MAX,
    };
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let results: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = (end < total).then(|| end.to_string());
    Ok(Json(json!({ "results": results, "nextPageToken": next })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_sdk_sends() {
        let q = Query::parse(Some(
            "search=a+b%26c&isRecursive=False&groupHashList=x&groupHashList=y&e=ken%40acme.com",
        ));
        assert_eq!(q.get("search"), Some("a b&c"));
        assert_eq!(q.flag("isRecursive").ok().flatten(), Some(false));
        assert_eq!(q.all("groupHashList"), vec!["x", "y"]);
        assert_eq!(q.get("e"), Some("ken@acme.com"));
        assert!(q.flag("search").is_err());
    }

    #[test]
    fn pages_follow_the_token_and_the_caps() {
        let items: Vec<u32> = (0..5).collect();
        let all = page(items.clone(), &Query::default(), None)
            .expect("page")
            .0;
        assert_eq!(all["results"].as_array().map(Vec::len), Some(5));
        assert!(all["nextPageToken"].is_null());
        let capped = page(items.clone(), &Query::parse(Some("pageSize=10")), Some(2))
            .expect("page")
            .0;
        assert_eq!(capped["results"], json!([0, 1]));
        assert_eq!(capped["nextPageToken"], json!("2"));
        let last = page(items, &Query::parse(Some("pageToken=4&pageSize=2")), None)
            .expect("page")
            .0;
        assert_eq!(last["results"], json!([4]));
        assert!(last["nextPageToken"].is_null());
    }
}
