//! Which requests the server answers: those addressed to it by its own name (the Host
//! header, against DNS rebinding), not sent by another site's page (the Origin header),
//! and carrying the token when the server has one. Every response gets a
//! Content-Security-Policy that lets a page run only the app's own script file and load
//! nothing from elsewhere.

use std::io::Read;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::App;
use crate::run::{Error, Result};

/// The cookie that carries the token after the first visit.
const COOKIE: &str = "consortium_sim_token";

/// Scripts only from the app's own files (no inline script, no eval); styles from its
/// file and the report pages' own `<style>`; images (the charts are inline SVG) from
/// itself and data URLs; nothing from any other origin; pages framed only by the app.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; \
     base-uri 'none'; form-action 'none'";

/// A new random token: 128 bits from the operating system, in hex.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::fault("cannot make a token (give one with --token)", e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The names by which a browser on this machine or the network reaches the server:
/// its address and port, `localhost` for a loopback address, and the names it was told
/// (`--host`: the machine's name, a reverse proxy's).
pub fn own_hosts(address: std::net::SocketAddr, named: &[String]) -> Vec<String> {
    let port = address.port();
    let mut hosts = vec![address.to_string()];
    hosts.extend(named.iter().cloned());
    if address.ip().is_loopback() {
        hosts.push(format!("localhost:{port}"));
        hosts.push(format!("127.0.0.1:{port}"));
        hosts.push(format!("[::1]:{port}"));
    }
    hosts
}

/// The middleware: refuses a request that fails a check (403, saying which), sets the
/// token's cookie on a first visit with `?token=`, and adds the security headers.
pub async fn check(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let refuse = |why: &str| refuse(api, why);
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let mut response = if !app.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        refuse("this server answers only requests addressed to it by its own address (Host)")
    } else if let Some(origin) = headers.get(header::ORIGIN)
        && !origin_is_own(origin, &app.hosts)
    {
        refuse("requests from other sites' pages are refused (Origin)")
    } else {
        match &app.config.token {
            None => next.run(request).await,
            Some(token) => with_token(token, api, request, next).await,
        }
    };
    secure(response.headers_mut());
    response
}

/// Lets the request through if it carries `token` in the cookie; a first visit with
/// `?token=` gets the cookie and is sent on to the page without the token in its URL.
async fn with_token(token: &str, api: bool, request: Request, next: Next) -> Response {
    if cookie(request.headers(), COOKIE).is_some_and(|c| same(c, token)) {
        return next.run(request).await;
    }
    let given = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
    if given.is_some_and(|g| same(g, token)) {
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
        // Lax, not Strict: a colleague's link to a results page (in an email, on an
        // intranet page) is a cross-site navigation, which Strict sends without the
        // cookie, so the page was refused. Lax sends it only on top-level GETs, and no GET
        // changes anything here: every change is a POST, PUT, PATCH or DELETE, which another
        // site's page cannot send with the cookie, and which the Origin check refuses too.
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    refuse(
        api,
        "this server needs its token: open the address it printed at start, with ?token=",
    )
}

/// A refusal (403), saying why: under `/api/` as `{"error": ...}` as every error of the
/// API is (a program reads it), elsewhere as a line of text (a person reads it in the
/// browser).
fn refuse(api: bool, why: &str) -> Response {
    let text = format!("refused: {why}");
    if api {
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({ "error": text })),
        )
            .into_response()
    } else {
        (StatusCode::FORBIDDEN, format!("{text}\n")).into_response()
    }
}

fn origin_is_own(origin: &HeaderValue, hosts: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|host| hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
}

/// The value of cookie `name` in the request's Cookie headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Compares two secrets in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The headers every response carries.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name_and_secrets_compared_whole() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; consortium_sim_token=xyz"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert!(same("xyz", "xyz") && !same("xyz", "xya") && !same("xyz", "xy"));
    }

    #[test]
    fn loopback_servers_answer_to_localhost_too() {
        let hosts = own_hosts("127.0.0.1:8300".parse().unwrap(), &[]);
        assert!(hosts.contains(&"localhost:8300".to_string()));
        let hosts = own_hosts("192.0.2.1:8300".parse().unwrap(), &["sim.example".into()]);
        assert_eq!(hosts, ["192.0.2.1:8300", "sim.example"]);
    }
}
