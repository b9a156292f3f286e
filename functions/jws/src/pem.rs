//! PEM blocks and the one piece of X.509 the keys need: the `SubjectPublicKeyInfo` inside a
//! certificate, since Mojaloop schemes often hand out a DFSP's JWS key as a certificate.
//!
//! The certificate is not validated (no chain, no dates): Mojaloop's validator only takes the
//! key out of it, and trust in the key comes from the scheme's onboarding, not from a CA.

use base64::Engine;

use crate::error::KeyError;

/// Longest PEM text accepted; an RSA 8192 private key is about 6.5 KB.
pub const PEM_BYTES_MAX: usize = 65_536;

/// One decoded PEM block.
#[derive(Debug)]
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Decodes the first PEM block in `text`. Accepts CRLF line ends and, because PEM texts pass
/// through environment variables and secrets, literal `\n` sequences standing for newlines.
pub(crate) fn parse_pem(text: &str) -> Result<PemBlock, KeyError> {
    if PEM_BYTES_MAX < text.len() {
        return Err(KeyError::InvalidPem(format!("{} bytes, at most {PEM_BYTES_MAX}", text.len())));
    }
    let text = match text.contains('\n') {
        true => text.to_string(),
        false => text.replace("\\n", "\n"),
    };
    let mut lines = text.lines().map(str::trim).skip_while(|line| !line.starts_with("-----BEGIN "));
    let label = match lines.next().and_then(|line| line.strip_prefix("-----BEGIN ")?.strip_suffix("-----")) {
        Some(label) => label.to_string(),
        None => return Err(KeyError::InvalidPem("no BEGIN line".to_string())),
    };
    let end = format!("-----END {label}-----");
    let mut base64_text = String::new();
    for line in lines.by_ref() {
        if line == end {
            return decode_block(label, &base64_text);
        }
        if line.contains(':') {
            // RFC 1421 headers (Proc-Type, DEK-Info) only appear on encrypted keys.
            return Err(KeyError::Encrypted);
        }
        base64_text.push_str(line);
    }
    Err(KeyError::InvalidPem(format!("no END line for {label}")))
}

/// Base64 characters per PEM line (RFC 7468).
const PEM_LINE_CHARS: usize = 64;

/// Writes `der` as one PEM block with `label`, lines of [`PEM_LINE_CHARS`].
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> String {
    let base64_text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in base64_text.as_bytes().chunks(PEM_LINE_CHARS) {
        // Base64 output is ASCII, so every chunk is UTF-8.
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn decode_block(label: String, base64_text: &str) -> Result<PemBlock, KeyError> {
    if label.contains("ENCRYPTED") {
        return Err(KeyError::Encrypted);
    }
    match base64::engine::general_purpose::STANDARD.decode(base64_text) {
        Ok(der) => Ok(PemBlock { label, der }),
        Err(err) => Err(KeyError::InvalidPem(format!("{label}: {err}"))),
    }
}

/// The DER `SubjectPublicKeyInfo` of an X.509 certificate.
pub(crate) fn certificate_public_key_info(der: &[u8]) -> Result<&[u8], KeyError> {
    spki_in_certificate(der).ok_or_else(|| KeyError::InvalidPem("not an X.509 certificate".to_string()))
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_INTEGER: u8 = 0x02;
/// `[0] EXPLICIT Version`, present in v2 and v3 certificates.
const TAG_VERSION: u8 = 0xa0;

fn spki_in_certificate(der: &[u8]) -> Option<&[u8]> {
    let certificate = read_element(der)?;
    let tbs = read_element(expect(certificate, TAG_SEQUENCE)?.content)?;
    let mut fields = expect(tbs, TAG_SEQUENCE)?.content;
    let mut field = read_element(fields)?;
    if field.tag == TAG_VERSION {
        fields = field.rest;
        field = read_element(fields)?;
    }
    // serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
    expect(field, TAG_INTEGER)?;
    fields = field.rest;
    for _ in 0..4 {
        fields = expect(read_element(fields)?, TAG_SEQUENCE)?.rest;
    }
    let spki = expect(read_element(fields)?, TAG_SEQUENCE)?;
    Some(spki.whole)
}

/// One DER element: its tag, its content, the bytes after it, and the element itself.
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
    rest: &'a [u8],
    whole: &'a [u8],
}

fn expect(element: Element<'_>, tag: u8) -> Option<Element<'_>> {
    match element.tag == tag {
        true => Some(element),
        false => None,
    }
}

/// Reads one element with a definite length of at most four length bytes (DER allows no
/// other form, and no certificate comes near 4 GiB).
fn read_element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_first) = after_tag.split_first()?;
    let (length, after_length) = match first {
        0..=0x7f => (usize::from(first), after_first),
        0x81..=0x84 => {
            let n_bytes = usize::from(first & 0x7f);
            let bytes = after_first.get(..n_bytes)?;
            let length = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (length, &after_first[n_bytes..])
        }
        _ => return None,
    };
    let content = after_length.get(..length)?;
    let header_length = input.len() - after_length.len();
    Some(Element { tag, content, rest: &after_length[length..], whole: &input[..header_length + length] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_block_among_other_text_with_crlf_or_escaped_newlines() {
        let pem = "junk\r\n-----BEGIN PUBLIC KEY-----\r\nAAEC\r\nAw==\r\n-----END PUBLIC KEY-----\r\n";
        let block = parse_pem(pem).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.der, [0, 1, 2, 3]);
        let escaped = "-----BEGIN PUBLIC KEY-----\\nAAECAw==\\n-----END PUBLIC KEY-----";
        assert_eq!(parse_pem(escaped).unwrap().der, [0, 1, 2, 3]);
    }

    #[test]
    fn written_blocks_read_back() {
        let der: Vec<u8> = (0..=200).collect();
        let pem = encode_pem("PUBLIC KEY", &der);
        assert!(pem.lines().all(|line| line.len() <= PEM_LINE_CHARS), "{pem}");
        assert_eq!(pem.lines().count(), 2 + 268_usize.div_ceil(PEM_LINE_CHARS));
        let block = parse_pem(&pem).unwrap();
        assert_eq!((block.label.as_str(), block.der), ("PUBLIC KEY", der));
    }

    #[test]
    fn refuses_broken_and_encrypted_blocks() {
        assert!(matches!(parse_pem("no pem here"), Err(KeyError::InvalidPem(_))));
        assert!(matches!(parse_pem("-----BEGIN X-----\nAAEC\n"), Err(KeyError::InvalidPem(_))));
        assert!(matches!(parse_pem("-----BEGIN X-----\n!!!\n-----END X-----"), Err(KeyError::InvalidPem(_))));
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAEC\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(parse_pem(encrypted).unwrap_err(), KeyError::Encrypted);
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAEC\n-----END RSA PRIVATE KEY-----";
        assert_eq!(parse_pem(legacy).unwrap_err(), KeyError::Encrypted);
        assert!(parse_pem(&"A".repeat(PEM_BYTES_MAX + 1)).is_err());
    }

    #[test]
    fn der_lengths_in_short_and_long_form() {
        let short = [0x30, 0x02, 0x05, 0x00, 0xff];
        let element = read_element(&short).unwrap();
        assert_eq!(
            (element.tag, element.content, element.rest, element.whole.len()),
            (0x30, &[5, 0][..], &[0xff][..], 4)
        );
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend(vec![7; 256]);
        assert_eq!(read_element(&long).unwrap().content.len(), 256);
        assert!(read_element(&[0x04, 0x82, 0x01]).is_none());
        assert!(read_element(&[0x04, 0x80]).is_none());
        assert!(certificate_public_key_info(&short).is_err());
    }
}
