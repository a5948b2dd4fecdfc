//! The log stream's signature: `x-webhook-signature: sha256=<hex>`, HMAC-SHA256 of the raw body
//! keyed with the secret string's bytes (Convex's webhook sink does not hex-decode the secret).
//! Several secrets may be valid at once, so a secret can be rotated without dropping batches.

use crate::secret::Secret;
use ring::hmac;

/// The header Convex's webhook sink signs each batch with.
pub const HEADER: &str = "x-webhook-signature";

pub struct Verifier {
    keys: Vec<hmac::Key>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier({} secret(s))", self.keys.len())
    }
}

impl Verifier {
    /// `None` without a non-empty secret: a daemon that accepts unsigned batches is not offered.
    pub fn new(secrets: &[Secret]) -> Option<Self> {
        let keys: Vec<hmac::Key> = secrets
            .iter()
            .filter(|s| !s.expose().is_empty())
            .map(|s| hmac::Key::new(hmac::HMAC_SHA256, s.expose().as_bytes()))
            .collect();
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// Splits `a,b` into the secrets in force (the old and the new one while rotating).
    pub fn secrets_from(list: &str) -> Vec<Secret> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect()
    }

    /// Whether `header` is a valid signature of `body` under any of the secrets. `ring` compares
    /// the tags in constant time.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> bool {
        let Some(tag) = header.and_then(parse_header) else {
            return false;
        };
        self.keys
            .iter()
            .any(|key| hmac::verify(key, body, &tag).is_ok())
    }
}

/// The signature a sink would send for `body` under `secret`; tests and the benchmark sign
/// with it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn parse_header(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let hex = text.strip_prefix("sha256=")?;
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Constant-time equality for the read token: the time taken does not say how much matched.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_any_secret_in_force() {
        let verifier = Verifier::new(&Verifier::secrets_from(
            "old0old0old0old0, new1new1new1new1",
        ))
        .unwrap();
        let body = br#"[{"topic":"verification"}]"#;
        assert!(verifier.verify(Some(sign("old0old0old0old0", body).as_bytes()), body));
        assert!(verifier.verify(Some(sign("new1new1new1new1", body).as_bytes()), body));
        assert!(!verifier.verify(Some(sign("other", body).as_bytes()), body));
        assert!(!verifier.verify(Some(sign("new1new1new1new1", b"[]").as_bytes()), body));
        assert!(!verifier.verify(None, body));
        assert!(!verifier.verify(Some(b"sha256=zz"), body));
    }

    #[test]
    fn no_secret_is_no_verifier() {
        assert!(Verifier::new(&Verifier::secrets_from(" , ")).is_none());
    }
}
