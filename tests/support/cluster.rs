//! Throwaway PostgreSQL 15 clusters: initdb + postgres in a temp dir on a free
//! port, as the `postgres` OS user when tests run as root.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const PG_SHARE: &str = "/usr/share/postgresql/15";

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Keeps a server alive while this value (and so the pipe) lives; when the
/// test process exits, the pipe closes and the shell stops the server.
pub struct Watchdog {
    _stdin: ChildStdin,
    _child: Child,
}

impl Watchdog {
    pub fn spawn(user: Option<&str>, script: &str) -> Watchdog {
        let mut cmd = match user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--", "sh", "-c", script]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.args(["-c", script]);
                c
            }
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning a test server");
        let stdin = child.stdin.take().expect("piped stdin");
        Watchdog {
            _stdin: stdin,
            _child: child,
        }
    }
}

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    pub superuser_password: String,
    /// The CA that signed the server's certificate (for localhost and
    /// 127.0.0.1), when TLS is on.
    pub ca_cert: Option<PathBuf>,
    _watchdog: Watchdog,
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_pg(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// A private copy of the server's binaries and share dir, so extension
/// control files can be marked trusted (Aurora's master user may create the
/// extensions Aurora offers) without touching the machine's installation.
/// PostgreSQL finds share/ and lib/ relative to its own binary.
fn private_install(root: &Path, keep_untrusted: &[&str]) -> PathBuf {
    let bin = root.join("usr/lib/postgresql/15/bin");
    let share = root.join("usr/share/postgresql");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&share).unwrap();
    run(
        Command::new("cp").args(["-a", &format!("{PG_BIN}/."), bin.to_str().unwrap()]),
        "copying PostgreSQL binaries",
    );
    run(
        Command::new("cp").args(["-a", PG_SHARE, share.to_str().unwrap()]),
        "copying PostgreSQL share dir",
    );
    std::os::unix::fs::symlink(
        "/usr/lib/postgresql/15/lib",
        root.join("usr/lib/postgresql/15/lib"),
    )
    .unwrap();
    let ext = share.join("15/extension");
    for entry in std::fs::read_dir(&ext).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "control") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if keep_untrusted.contains(&name.as_str()) || text.contains("trusted") {
            continue;
        }
        std::fs::write(&path, format!("{text}\ntrusted = true\n")).unwrap();
    }
    bin
}

/// A test CA and a server certificate for localhost / 127.0.0.1 signed by it,
/// shaped like RDS's: clients trust the CA, never the leaf itself.
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    run(
        Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=supamigrate-test-ca",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.crt"),
        ]),
        "openssl: test CA",
    );
    run(
        Command::new("openssl").args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
        ]),
        "openssl: server key",
    );
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(
        Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.crt"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p("san.cnf"),
            "-out",
            &p("server.crt"),
        ]),
        "openssl: sign server certificate",
    );
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    )
}

impl Cluster {
    /// Starts a cluster whose superuser is `postgres` with `password`.
    /// `trusted_except` makes a private install with extensions trusted;
    /// `tls` turns on TLS with a self-signed certificate for localhost.
    pub fn start(
        label: &str,
        password: &str,
        trusted_except: Option<&[&str]>,
        tls: bool,
    ) -> Cluster {
        let root = is_root();
        let user = root.then_some("postgres");
        let dir = tempfile::Builder::new()
            .prefix(&format!("supamigrate-{label}-"))
            .tempdir()
            .expect("temp dir")
            .keep();
        let bin = match trusted_except {
            Some(keep) => private_install(&dir.join("install"), keep),
            None => PathBuf::from(PG_BIN),
        };
        let data = dir.join("data");
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, password).unwrap();
        let certs = tls.then(|| test_certificates(&dir));
        if root {
            run(
                Command::new("chown").args(["-R", "postgres:postgres", dir.to_str().unwrap()]),
                "chown test cluster dir",
            );
        }
        run(
            as_pg(user, &bin.join("initdb"))
                .args([
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let port = free_port();
        // With TLS on, 127.0.0.2 too: a loopback address not named in the
        // certificate, to test host name verification.
        let listen = if tls {
            "127.0.0.1,127.0.0.2"
        } else {
            "127.0.0.1"
        };
        let mut conf = format!(
            "port = {port}\nlisten_addresses = '{listen}'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n\
             shared_buffers = 128MB\nmax_wal_size = 2GB\nlog_min_messages = fatal\n",
            dir.display()
        );
        if let Some((_, cert, key)) = &certs {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                cert.display(),
                key.display()
            ));
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        f.write_all(conf.as_bytes()).unwrap();
        let postgres = bin.join("postgres");
        let script = format!(
            "'{}' -D '{}' >'{}/server.log' 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{}'",
            postgres.display(),
            data.display(),
            dir.display(),
            dir.display()
        );
        let watchdog = Watchdog::spawn(user, &script);
        wait_for_port(
            port,
            &format!("PostgreSQL ({label}), log in {}/server.log", dir.display()),
        );
        let cluster = Cluster {
            port,
            dir,
            superuser_password: password.to_string(),
            ca_cert: certs.map(|(ca, _, _)| ca),
            _watchdog: watchdog,
        };
        // The port opens before the server accepts logins.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = Command::new("psql")
                .args([
                    "-X",
                    "-At",
                    "-d",
                    &cluster.superuser_url("postgres"),
                    "-c",
                    "select 1",
                ])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{label} cluster did not accept logins"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    pub fn superuser_url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{db}?sslmode=disable",
            self.superuser_password, self.port
        )
    }

    pub fn superuser_psql(&self, db: &str, sql: &str) -> String {
        super::psql(&self.superuser_url(db), sql)
    }
}
