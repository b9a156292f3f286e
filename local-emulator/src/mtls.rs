//! Optional mutual TLS on the FSPIOP listener (`up --mtls CA --tls-cert CERT --tls-key KEY`),
//! applying the rule of the APIM policy (bicep/policies/fspiop.xml): a DFSP presents a client
//! certificate issued by the scheme CA, and the participant that certificate names (its subject
//! CN) must be the request's FSPIOP-Source. No certificate, or one the CA did not issue: 403 with
//! 3100. No FSPIOP-Source: 400 with 3102. Another participant's name: 400 with 3100.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The files mutual TLS needs.
#[derive(Debug, Clone)]
pub struct MtlsFiles {
    /// The scheme CA that issues DFSP client certificates (PEM).
    pub client_ca: PathBuf,
    /// The edge's own certificate chain and key (PEM).
    pub server_certificate: PathBuf,
    pub server_key: PathBuf,
}

/// Why mutual TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("mTLS: {0}")]
pub struct MtlsError(String);

/// The participant a connection's client certificate names; `None` without a valid certificate.
#[derive(Debug, Clone)]
pub struct ClientParticipant(pub Option<String>);

/// Builds the TLS acceptor: the client CA verifies certificates, which are optional at the
/// handshake so a request without one gets the policy's FSPIOP error instead of a TLS alert.
pub fn acceptor(files: &MtlsFiles) -> Result<TlsAcceptor, MtlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(&files.client_ca)? {
        roots.add(certificate).map_err(|err| MtlsError(format!("{}: {err}", files.client_ca.display())))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .allow_unauthenticated()
        .build()
        .map_err(|err| MtlsError(err.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&files.server_key)
        .map_err(|err| MtlsError(format!("{}: {err}", files.server_key.display())))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| MtlsError(err.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certificates(&files.server_certificate)?, key)
        .map_err(|err| MtlsError(err.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, MtlsError> {
    let certificates: Result<Vec<_>, _> =
        CertificateDer::pem_file_iter(path).map_err(|err| MtlsError(format!("{}: {err}", path.display())))?.collect();
    let certificates = certificates.map_err(|err| MtlsError(format!("{}: {err}", path.display())))?;
    if certificates.is_empty() {
        return Err(MtlsError(format!("{}: no certificate", path.display())));
    }
    Ok(certificates)
}

/// Serves `router` over TLS on `listener`, each request carrying its connection's
/// [`ClientParticipant`] and checked by [`require_matching_source`], with the connection limits
/// of every listener (`plumbing::listen`; the handshake within the header-read timeout).
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: Router) {
    let router = router.layer(axum::middleware::from_fn(require_matching_source));
    let handshake = move |stream: tokio::net::TcpStream| {
        let (acceptor, router) = (acceptor.clone(), router.clone());
        async move {
            let peer = stream.peer_addr().ok();
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(err) => {
                    tracing::warn!(?peer, "TLS handshake failed: {err}");
                    return None;
                }
            };
            let participant =
                tls.get_ref().1.peer_certificates().and_then(|chain| chain.first()).and_then(|leaf| common_name(leaf));
            Some((tls, router.layer(Extension(ClientParticipant(participant)))))
        }
    };
    plumbing::listen::serve_prepared(
        listener,
        plumbing::listen::LIMITS,
        Arc::default(),
        std::future::pending(),
        handshake,
    )
    .await;
}

/// The subject CN of a DER certificate.
fn common_name(certificate: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let name = parsed.subject().iter_common_name().next()?.as_str().ok()?.to_string();
    Some(name)
}

/// The APIM policy's rule: a certificate, and FSPIOP-Source naming its participant.
async fn require_matching_source(
    Extension(participant): Extension<ClientParticipant>,
    request: Request,
    next: Next,
) -> Response {
    let Some(certified) = participant.0 else {
        return refuse(
            StatusCode::FORBIDDEN,
            "3100",
            "Generic validation error - a valid client certificate issued by the scheme CA is required",
        );
    };
    let claimed = request.headers().get("fspiop-source").and_then(|it| it.to_str().ok()).unwrap_or_default();
    if claimed.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "3102", "Missing mandatory element - FSPIOP-Source is required");
    }
    if !claimed.eq_ignore_ascii_case(&certified) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "3100",
            "Generic validation error - FSPIOP-Source does not match the client certificate",
        );
    }
    next.run(request).await
}

fn refuse(status: StatusCode, code: &str, description: &str) -> Response {
    (status, axum::Json(json!({ "errorInformation": { "errorCode": code, "errorDescription": description } })))
        .into_response()
}
