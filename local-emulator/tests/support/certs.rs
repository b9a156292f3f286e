//! Certificates for the mutual-TLS tests, made by the openssl CLI: a scheme CA that issues the
//! edge's server certificate and the DFSPs' client certificates, and clients that present them.

use std::path::Path;
use std::process::Command;

use local_emulator::mtls::MtlsFiles;

/// A scheme CA in `dir` with the edge's certificate for 127.0.0.1 and a client certificate for
/// each of `dfsps`: the files the emulator's `--mtls` needs.
pub fn scheme(dir: &Path, dfsps: &[&str]) -> MtlsFiles {
    issue(dir, "scheme", "localhost", true);
    for dfsp in dfsps {
        issue(dir, "scheme", dfsp, false);
    }
    MtlsFiles {
        client_ca: dir.join("scheme-ca.pem"),
        server_certificate: dir.join("localhost.pem"),
        server_key: dir.join("localhost.key"),
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl").args(args).current_dir(dir).status().expect("the openssl CLI is installed");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA (`<name>-ca.pem`), and a certificate it issued for `cn` (`<cn>.pem`, `<cn>.key`).
pub fn issue(dir: &Path, ca: &str, cn: &str, server: bool) {
    if !dir.join(format!("{ca}-ca.pem")).exists() {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={ca} scheme CA"),
                "-keyout",
                &format!("{ca}-ca.key"),
                "-out",
                &format!("{ca}-ca.pem"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &format!("{cn}.key"),
            "-out",
            &format!("{cn}.csr"),
        ],
    );
    let extensions = if server {
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    } else {
        "extendedKeyUsage=clientAuth\n"
    };
    std::fs::write(dir.join(format!("{cn}.ext")), extensions).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{cn}.csr"),
            "-CA",
            &format!("{ca}-ca.pem"),
            "-CAkey",
            &format!("{ca}-ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{cn}.ext"),
            "-out",
            &format!("{cn}.pem"),
        ],
    );
}

/// A client that trusts the scheme CA and, with `identity`, presents the certificate issued for
/// that CN.
pub fn client(dir: &Path, identity: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("scheme-ca.pem")).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder().tls_certs_only([ca]).no_proxy();
    if let Some(cn) = identity {
        let mut pem = std::fs::read(dir.join(format!("{cn}.pem"))).unwrap();
        pem.extend(std::fs::read(dir.join(format!("{cn}.key"))).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}
