//! Keys: the hub's RSA private key (it signs with RS256) and participants' public keys (RSA
//! for RS256, EC P-256 for ES256, the two algorithms Mojaloop's validator allows), parsed from
//! PEM once and kept ready for use.
//!
//! Accepted PEM: `PRIVATE KEY` (PKCS#8) and `RSA PRIVATE KEY` (PKCS#1) for the hub;
//! `PUBLIC KEY` (SubjectPublicKeyInfo), `RSA PUBLIC KEY` (PKCS#1) and `CERTIFICATE` (its key is
//! used, the certificate itself is not checked) for participants. Encrypted PEM is refused.
//!
//! [`generate_hub_key`] makes a fresh hub key pair as PEM, for a local switch that signs its
//! callbacks without an operator-issued key (the emulator's `--jws-sign`).

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, ParsedPublicKey, RsaKeyPair, RsaParameters, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
};

use crate::pem::{certificate_public_key_info, encode_pem, parse_pem};

/// The error of every constructor here, also named at its old path `keys::KeyError`.
pub use crate::error::KeyError;

/// Smallest RSA modulus accepted, in bits: what RS256 verification in the crypto library
/// accepts, and NIST's floor for signatures.
pub const RSA_KEY_BITS_MIN: u32 = 2_048;

/// A JWS signature algorithm the switch understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what the Mojaloop API requires and the hub signs with.
    Rs256,
    /// ECDSA P-256 with SHA-256: also accepted by Mojaloop's current validator.
    Es256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Es256 => "ES256",
        }
    }

    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "RS256" => Some(Algorithm::Rs256),
            "ES256" => Some(Algorithm::Es256),
            _ => None,
        }
    }
}

/// The hub's signing key.
pub struct PrivateKey {
    pair: RsaKeyPair,
}

impl PrivateKey {
    pub fn from_pem(pem: &str) -> Result<PrivateKey, KeyError> {
        let block = parse_pem(pem)?;
        let parsed = match block.label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.der),
            other => return Err(KeyError::Unsupported(format!("{other} is not an RSA private key"))),
        };
        let pair = parsed.map_err(|err| KeyError::Unsupported(format!("RSA private key: {err}")))?;
        let bits = (pair.public_modulus_len() * 8) as u32;
        if bits < RSA_KEY_BITS_MIN {
            return Err(KeyError::WeakKey { bits, min: RSA_KEY_BITS_MIN });
        }
        Ok(PrivateKey { pair })
    }

    pub(crate) fn pair(&self) -> &RsaKeyPair {
        &self.pair
    }
}

/// Never prints key material.
impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(RSA {} bits)", self.pair.public_modulus_len() * 8)
    }
}

/// A hub key pair as PEM texts.
pub struct KeyPairPem {
    /// `PRIVATE KEY` (PKCS#8), what [`PrivateKey::from_pem`] and a key directory's
    /// `hub-private.pem` take.
    pub private_pem: String,
    /// `PUBLIC KEY` (SubjectPublicKeyInfo), what a DFSP verifies the hub's signatures with.
    pub public_pem: String,
}

/// Never prints the private key.
impl fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPairPem").field("public_pem", &self.public_pem).finish_non_exhaustive()
    }
}

/// A fresh RSA key pair of [`RSA_KEY_BITS_MIN`] bits for the hub to sign with (RS256).
pub fn generate_hub_key() -> Result<KeyPairPem, KeyError> {
    const _: () = assert!(RSA_KEY_BITS_MIN == 2_048, "the generated key size is the smallest accepted");
    let failed = |what: &str| KeyError::Unsupported(format!("RSA key generation failed at {what}"));
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("generation"))?;
    let private_der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| failed("PKCS#8 encoding"))?;
    let public_der = pair.public_key().as_der().map_err(|_| failed("public key encoding"))?;
    let generated = KeyPairPem {
        private_pem: encode_pem("PRIVATE KEY", private_der.as_ref()),
        public_pem: encode_pem("PUBLIC KEY", public_der.as_ref()),
    };
    // Pair check: what was written reads back as a key of the size asked for.
    assert_eq!(
        PrivateKey::from_pem(&generated.private_pem).map(|it| it.pair.public_modulus_len() * 8).ok(),
        Some(2_048)
    );
    assert_eq!(PublicKey::from_pem(&generated.public_pem).map(|it| it.algorithm).ok(), Some(Algorithm::Rs256));
    Ok(generated)
}

/// A participant's verification key, bound to the one algorithm it can verify.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    key: ParsedPublicKey,
}

impl PublicKey {
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyError> {
        let block = parse_pem(pem)?;
        match block.label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => PublicKey::from_der(&block.der),
            "CERTIFICATE" => PublicKey::from_der(certificate_public_key_info(&block.der)?),
            other => Err(KeyError::Unsupported(format!("{other} is not a public key or certificate"))),
        }
    }

    /// RSA in PKCS#1 or SubjectPublicKeyInfo form, or EC P-256 in SubjectPublicKeyInfo form.
    fn from_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if let Ok(rsa) = aws_lc_rs::rsa::PublicKey::from_der(der) {
            let bits = RsaParameters::public_modulus_len(rsa.as_ref())
                .map_err(|_| KeyError::Unsupported("unreadable RSA modulus".to_string()))?;
            if bits < RSA_KEY_BITS_MIN {
                return Err(KeyError::WeakKey { bits, min: RSA_KEY_BITS_MIN });
            }
            let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, rsa.as_ref())
                .map_err(|err| KeyError::Unsupported(format!("RSA public key: {err}")))?;
            return Ok(PublicKey { algorithm: Algorithm::Rs256, key });
        }
        match ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, der) {
            Ok(key) => Ok(PublicKey { algorithm: Algorithm::Es256, key }),
            Err(_) => Err(KeyError::Unsupported("neither an RSA nor an EC P-256 public key".to_string())),
        }
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether `signature` is this key's signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm.as_str())
    }
}
