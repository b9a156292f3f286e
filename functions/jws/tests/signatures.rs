//! Signing and validation with real keys: Mojaloop's published known-answer vector, round trips
//! with every key form, and one refusal per way a request can be wrong.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::Engine;
use jws::keys::{Algorithm, KeyError, PrivateKey, PublicKey};
use jws::sign::{SignError, SignRequest, SignedHeaders, Signer};
use jws::validate::{InboundRequest, Rejection, RequiredHeader, SignedField, Validator};

/// mojaloop/interop-apis-bc fspiop-utils-lib test `validSignature` (see fixtures/README.md).
const MOJALOOP_VECTOR: &str = r#"{"signature":"AtIc2YhY2iDHET8QKncbcaG0f4ABI_gaLim4nc0naGdpXtE9bF-f4FIRNaqbBAp3capp45GY_IMompxvkS3I6CbX8m-PjklOdUWYutDS2eg-W-w_y1XFvl9Qd0-2J7Vus4EhwfjYWuOFNq1XL33Jf67f4VAGWGPFg09QVTysE26fX21E5KKwJbSIztwVLWQ4862OmNhf6_kWqCX93PMT9pL9Hb0ZVFxV7vNlCemIaE9MlYpLep5orzFzU58TtJQf_wOrcS1aXZjlBP6KB6fC1K3P-5FWneCMIu4Kp51-tcQFho0eyrmcdUwnH_rzfh69gd8NwXhIyBOaTBXLew9_-Q","protectedHeader":"eyJhbGciOiJSUzI1NiIsIkZTUElPUC1VUkkiOiIvdHJhbnNmZXJzIiwiRlNQSU9QLUhUVFAtTWV0aG9kIjoiUE9TVCIsIkZTUElPUC1Tb3VyY2UiOiJibHVlYmFuayJ9"}"#;
const BODY: &str = r#"{"transferState":"COMMITTED","completedTimestamp":"2026-09-21T10:00:00.000Z"}"#;
const DATE: &str = "Mon, 21 Sep 2026 10:00:00 GMT";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn signer(private_key_file: &str) -> Signer {
    Signer::new(PrivateKey::from_pem(&fixture(private_key_file)).unwrap())
}

fn public(file: &str) -> PublicKey {
    PublicKey::from_pem(&fixture(file)).unwrap()
}

fn validator() -> Validator {
    let keys = [
        ("payerfsp", "payerfsp.pem"),
        ("payeefsp", "payeefsp.pem"),
        ("ecfsp", "ecfsp.pem"),
        // Another name with payerfsp's key: a signature that verifies but names another source.
        ("payertwin", "payerfsp.pem"),
        ("bluebank", "mojaloop-vnext-test-cert.pem"),
    ];
    Validator::new(keys.into_iter().map(|(name, file)| (name.to_string(), public(file))).collect())
}

/// An inbound request with owned parts, so each case can change one of them.
#[derive(Debug, Clone)]
struct Request {
    source: Option<String>,
    destination: Option<String>,
    uri: Option<String>,
    http_method: Option<String>,
    date: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
}

impl Request {
    fn view(&self) -> InboundRequest<'_> {
        InboundRequest {
            source: self.source.as_deref(),
            destination: self.destination.as_deref(),
            uri: self.uri.as_deref(),
            http_method: self.http_method.as_deref(),
            date: self.date.as_deref(),
            signature: self.signature.as_deref(),
            body: &self.body,
        }
    }
}

/// payerfsp's PUT /transfers/{id}, signed by payerfsp, as the switch receives it.
fn signed_request() -> Request {
    let body = BODY.as_bytes();
    let signed = signer("payerfsp-private-pkcs1.pem")
        .sign(&SignRequest {
            method: "put",
            url: "https://switch.example/fsp/transfers/b51ec534-ee48-4575-b6a9-ead2955b8069",
            source: "payerfsp",
            destination: Some("payeefsp"),
            date: Some(DATE),
            body,
        })
        .unwrap();
    request_for(signed, "payerfsp", Some("payeefsp"), body)
}

fn request_for(signed: SignedHeaders, source: &str, destination: Option<&str>, body: &[u8]) -> Request {
    Request {
        source: Some(source.to_string()),
        destination: destination.map(str::to_string),
        uri: Some(signed.uri),
        http_method: Some(signed.http_method),
        date: Some(DATE.to_string()),
        signature: Some(signed.signature),
        body: body.to_vec(),
    }
}

/// The signature header with its protected header replaced by `protected_json`; the signature
/// no longer matches, which the checks before verification do not need.
fn with_protected_header(protected_json: &str) -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(protected_json);
    serde_json::json!({ "signature": "AAAA", "protectedHeader": encoded }).to_string()
}

#[test]
fn the_signer_reproduces_mojaloops_published_vector_and_the_validator_accepts_it() {
    let signed = signer("mojaloop-vnext-test-key.pem")
        .sign(&SignRequest {
            method: "POST",
            url: "/transfers",
            source: "bluebank",
            destination: None,
            date: None,
            body: b"{}",
        })
        .unwrap();
    assert_eq!(signed.signature, MOJALOOP_VECTOR);
    assert_eq!(signed.uri, "/transfers");
    assert_eq!(signed.http_method, "POST");
    let request = Request {
        source: Some("bluebank".to_string()),
        destination: None,
        uri: Some("/transfers".to_string()),
        http_method: Some("POST".to_string()),
        date: None,
        signature: Some(MOJALOOP_VECTOR.to_string()),
        body: b"{}".to_vec(),
    };
    assert_eq!(validator().validate(&request.view()), Ok(()));
}

#[test]
fn a_signed_callback_round_trips_with_every_key_form() {
    // PKCS#1 private key; SPKI and PKCS#1 public keys.
    let request = signed_request();
    assert_eq!(request.uri.as_deref(), Some("/transfers/b51ec534-ee48-4575-b6a9-ead2955b8069"));
    assert_eq!(request.http_method.as_deref(), Some("PUT"));
    assert_eq!(validator().validate(&request.view()), Ok(()));
    let pkcs1 = Validator::new(HashMap::from([("payerfsp".to_string(), public("payerfsp-pkcs1-public.pem"))]));
    assert_eq!(pkcs1.validate(&request.view()), Ok(()));

    // The hub's PKCS#8 key, and a 3072-bit key.
    for (private_file, public_file) in [("hub-private.pem", "hub-public.pem"), ("payeefsp-private.pem", "payeefsp.pem")]
    {
        let signed = signer(private_file)
            .sign(&SignRequest {
                method: "PUT",
                url: "/transfers/1/error",
                source: "switch",
                destination: Some("payerfsp"),
                date: None,
                body: b"{\"a\":1}",
            })
            .unwrap();
        let mut request = request_for(signed, "switch", Some("payerfsp"), b"{\"a\":1}");
        request.date = None;
        let one = Validator::new(HashMap::from([("switch".to_string(), public(public_file))]));
        assert_eq!(one.validate(&request.view()), Ok(()), "{private_file}");
    }
}

#[test]
fn a_key_made_by_the_openssl_cli_signs_and_verifies() {
    let dir = std::env::temp_dir().join(format!("jws_t_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let private_path = dir.join("key.pem");
    let public_path = dir.join("pub.pem");
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl").args(args).status().expect("the openssl CLI is installed");
        assert!(status.success(), "openssl {args:?}: {status}");
    };
    openssl(&[
        "genpkey",
        "-quiet",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        private_path.to_str().unwrap(),
    ]);
    openssl(&["pkey", "-in", private_path.to_str().unwrap(), "-pubout", "-out", public_path.to_str().unwrap()]);
    let private_key = PrivateKey::from_pem(&std::fs::read_to_string(&private_path).unwrap()).unwrap();
    let public_key = PublicKey::from_pem(&std::fs::read_to_string(&public_path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let signed = Signer::new(private_key)
        .sign(&SignRequest {
            method: "POST",
            url: "/transfers",
            source: "fresh",
            destination: None,
            date: Some(DATE),
            body: BODY.as_bytes(),
        })
        .unwrap();
    let request = request_for(signed, "fresh", None, BODY.as_bytes());
    let validator = Validator::new(HashMap::from([("fresh".to_string(), public_key)]));
    assert_eq!(validator.validate(&request.view()), Ok(()));
}

#[test]
fn a_generated_hub_key_signs_what_its_public_key_verifies_and_openssl_reads_it() {
    let generated = jws::keys::generate_hub_key().unwrap();
    assert!(!format!("{generated:?}").contains("PRIVATE"), "Debug never prints the private key");
    let other = jws::keys::generate_hub_key().unwrap();
    assert_ne!(generated.public_pem, other.public_pem, "every call makes a new key");
    let signed = Signer::new(PrivateKey::from_pem(&generated.private_pem).unwrap())
        .sign(&SignRequest {
            method: "PUT",
            url: "/transfers/1",
            source: "Hub",
            destination: Some("payerfsp"),
            date: Some(DATE),
            body: BODY.as_bytes(),
        })
        .unwrap();
    let request = request_for(signed, "Hub", Some("payerfsp"), BODY.as_bytes());
    let hub = |pem: &str| Validator::new(HashMap::from([("Hub".to_string(), PublicKey::from_pem(pem).unwrap())]));
    assert_eq!(hub(&generated.public_pem).validate(&request.view()), Ok(()));
    assert_eq!(hub(&other.public_pem).validate(&request.view()), Err(Rejection::BadSignature));
    // Standard PEM: the OpenSSL CLI (what a DFSP or operator would use) reads both halves.
    let dir = std::env::temp_dir().join(format!("jws_t_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, pem, args) in [
        ("key.pem", &generated.private_pem, &["pkey", "-noout", "-in"][..]),
        ("pub.pem", &generated.public_pem, &["pkey", "-pubin", "-noout", "-in"][..]),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        let status =
            std::process::Command::new("openssl").args(args).arg(&path).status().expect("the openssl CLI is installed");
        assert!(status.success(), "openssl reads {name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn es256_signatures_from_an_ec_key_verify() {
    let pem = fixture("ecfsp-private.pem");
    let der = base64::engine::general_purpose::STANDARD
        .decode(pem.lines().filter(|line| !line.starts_with("-----")).collect::<String>())
        .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).unwrap();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let protected =
        b64(br#"{"alg":"ES256","FSPIOP-URI":"/transfers","FSPIOP-HTTP-Method":"POST","FSPIOP-Source":"ecfsp"}"#);
    let signature =
        pair.sign(&SystemRandom::new(), format!("{protected}.{}", b64(BODY.as_bytes())).as_bytes()).unwrap();
    let header = serde_json::json!({ "signature": b64(signature.as_ref()), "protectedHeader": protected }).to_string();
    let mut request = signed_request();
    request.source = Some("ecfsp".to_string());
    request.destination = None;
    request.uri = Some("/transfers".to_string());
    request.http_method = Some("POST".to_string());
    request.signature = Some(header);
    assert_eq!(public("ecfsp.pem").algorithm(), Algorithm::Es256);
    assert_eq!(validator().validate(&request.view()), Ok(()));
    request.body = br#"{"transferState":"ABORTED"}"#.to_vec();
    assert_eq!(validator().validate(&request.view()), Err(Rejection::BadSignature));
}

#[test]
fn a_signature_over_the_compact_json_accepts_the_same_json_with_other_whitespace() {
    // Mojaloop validates JSON.stringify(parsed body), not the bytes.
    let mut request = signed_request();
    request.body =
        b"{\n  \"transferState\": \"COMMITTED\",\n  \"completedTimestamp\": \"2026-09-21T10:00:00.000Z\"\n}".to_vec();
    assert_eq!(validator().validate(&request.view()), Ok(()));
    request.body = b"{\"transferState\": \"COMMITTED\"}".to_vec();
    assert_eq!(validator().validate(&request.view()), Err(Rejection::BadSignature));
}

/// One refusal per way a request can be wrong, in the order Mojaloop checks.
#[test]
fn every_wrong_request_is_refused_with_its_reason() {
    type Change = fn(&mut Request);
    let cases: Vec<(&str, Change, Rejection)> = vec![
        ("empty body", |r| r.body.clear(), Rejection::EmptyBody),
        ("no source", |r| r.source = None, Rejection::MissingHeader(RequiredHeader::Source)),
        ("unknown source", |r| r.source = Some("stranger".into()), Rejection::UnknownSource("stranger".into())),
        ("no uri", |r| r.uri = None, Rejection::MissingHeader(RequiredHeader::Uri)),
        ("no method", |r| r.http_method = None, Rejection::MissingHeader(RequiredHeader::HttpMethod)),
        ("no signature", |r| r.signature = None, Rejection::MissingHeader(RequiredHeader::Signature)),
        (
            "not json",
            |r| r.signature = Some("abc".into()),
            Rejection::Malformed("not JSON with string signature and protectedHeader"),
        ),
        (
            "no protected header",
            |r| r.signature = Some(r#"{"signature":"AA"}"#.into()),
            Rejection::Malformed("not JSON with string signature and protectedHeader"),
        ),
        (
            "protected not base64url",
            |r| r.signature = Some(r#"{"signature":"AA","protectedHeader":"%%"}"#.into()),
            Rejection::Malformed("protectedHeader is not base64url"),
        ),
        (
            "protected not an object",
            |r| r.signature = Some(with_protected_header("[1]")),
            Rejection::Malformed("protectedHeader is not a JSON object"),
        ),
        (
            "no alg",
            |r| r.signature = Some(with_protected_header("{}")),
            Rejection::MissingInProtectedHeader(SignedField::Algorithm),
        ),
        (
            "hmac alg",
            |r| r.signature = Some(with_protected_header(r#"{"alg":"HS256"}"#)),
            Rejection::UnsupportedAlgorithm("HS256".into()),
        ),
        (
            "none alg",
            |r| r.signature = Some(with_protected_header(r#"{"alg":"none"}"#)),
            Rejection::UnsupportedAlgorithm("none".into()),
        ),
        (
            "alg for another key",
            |r| r.signature = Some(with_protected_header(r#"{"alg":"ES256"}"#)),
            Rejection::AlgorithmNotForKey { alg: "ES256", key: "RS256" },
        ),
        (
            "signature not base64url",
            |r| r.signature = Some(r.signature.as_ref().unwrap().replace("\"signature\":\"", "\"signature\":\"*")),
            Rejection::Malformed("signature is not base64url"),
        ),
        ("tampered body", |r| r.body = BODY.replace("COMMITTED", "ABORTED").into_bytes(), Rejection::BadSignature),
        ("signed by another key", |r| r.source = Some("payeefsp".into()), Rejection::BadSignature),
        ("source differs", |r| r.source = Some("payertwin".into()), Rejection::Mismatch(SignedField::Source)),
        ("uri differs", |r| r.uri = Some("/transfers/other".into()), Rejection::Mismatch(SignedField::Uri)),
        ("method differs", |r| r.http_method = Some("POST".into()), Rejection::Mismatch(SignedField::HttpMethod)),
        ("method case differs", |r| r.http_method = Some("put".into()), Rejection::Mismatch(SignedField::HttpMethod)),
        (
            "date differs",
            |r| r.date = Some("Tue, 22 Sep 2026 10:00:00 GMT".into()),
            Rejection::Mismatch(SignedField::Date),
        ),
        ("date dropped", |r| r.date = None, Rejection::Mismatch(SignedField::Date)),
        (
            "destination differs",
            |r| r.destination = Some("payertwin".into()),
            Rejection::Mismatch(SignedField::Destination),
        ),
        ("destination dropped", |r| r.destination = None, Rejection::Mismatch(SignedField::Destination)),
    ];
    let validator = validator();
    for (name, change, expected) in cases {
        let mut request = signed_request();
        change(&mut request);
        assert_eq!(validator.validate(&request.view()), Err(expected), "{name}");
    }
}

#[test]
fn an_unsigned_destination_or_date_is_handled_as_mojaloop_does() {
    let body = BODY.as_bytes();
    let signed = signer("payerfsp-private-pkcs1.pem")
        .sign(&SignRequest {
            method: "PUT",
            url: "/transfers/1",
            source: "payerfsp",
            destination: None,
            date: None,
            body,
        })
        .unwrap();
    let mut request = request_for(signed, "payerfsp", None, body);
    // A Date the signature does not cover is allowed.
    assert_eq!(validator().validate(&request.view()), Ok(()));
    // A destination the signature does not cover is not.
    request.destination = Some("payeefsp".to_string());
    assert_eq!(
        validator().validate(&request.view()),
        Err(Rejection::MissingInProtectedHeader(SignedField::Destination))
    );
}

#[test]
fn the_signer_refuses_what_mojaloop_cannot_sign() {
    let hub = signer("hub-private.pem");
    let mut request =
        SignRequest { method: "GET", url: "/transfers/1", source: "switch", destination: None, date: None, body: b"" };
    assert_eq!(hub.sign(&request), Err(SignError::EmptyBody));
    request.body = b"{}";
    request.url = "no-slash";
    assert_eq!(hub.sign(&request), Err(SignError::UrlWithoutResource("no-slash".to_string())));
}

#[test]
fn weak_and_unsuitable_keys_are_refused_at_load() {
    assert!(matches!(PublicKey::from_pem(&fixture("weak.pem")), Err(KeyError::WeakKey { bits: 1024, min: 2048 })));
    // The crypto library itself refuses RSA private keys under 2048 bits.
    let weak_private = PrivateKey::from_pem(&fixture("weak-private.pem")).unwrap_err();
    assert!(matches!(weak_private, KeyError::Unsupported(_) | KeyError::WeakKey { .. }), "{weak_private:?}");
    // An EC private key cannot be the hub's RS256 key; a private key is not a public key.
    assert!(matches!(PrivateKey::from_pem(&fixture("ecfsp-private.pem")), Err(KeyError::Unsupported(_))));
    assert!(matches!(PublicKey::from_pem(&fixture("hub-private.pem")), Err(KeyError::Unsupported(_))));
    assert_eq!(public("mojaloop-vnext-test-cert.pem").algorithm(), Algorithm::Rs256);
}
