//! Every configuration or usage error is one line,
//! `error: <file, variable or flag> <key>: <what is wrong>; fix: <what to do>`,
//! with exit code 2: snapshotted, so a change to any of them is reviewed.

mod support;

use std::fmt::Write as _;

/// Name, config file text (or ""), environment, arguments.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        "jobs zero in the file",
        "[copy]\njobs = 0\n",
        &[],
        &["plan"],
    ),
    (
        "chunk_bytes zero in the file",
        "[copy]\nchunk_bytes = 0\n",
        &[],
        &["plan"],
    ),
    (
        "jobs a word in the file",
        "[copy]\njobs = \"four\"\n",
        &[],
        &["plan"],
    ),
    (
        "chunk_bytes negative in the file",
        "[copy]\nchunk_bytes = -5\n",
        &[],
        &["plan"],
    ),
    (
        "jobs not a number in a variable",
        "",
        &[("SUPAMIGRATE_COPY_JOBS", "abc")],
        &["plan"],
    ),
    (
        "chunk_bytes too small in a variable",
        "",
        &[("SUPAMIGRATE_COPY_CHUNK_BYTES", "4096")],
        &["plan"],
    ),
    (
        "jobs not a number in a flag",
        "",
        &[],
        &["--jobs", "abc", "plan"],
    ),
    ("jobs zero in a flag", "", &[], &["--jobs", "0", "plan"]),
    (
        "invalid TOML",
        "[source]\nurl = \"postgres://a@h/db\"\n[copy\njobs = 2\n",
        &[],
        &["plan"],
    ),
    ("unknown key", "[copy]\njbos = 2\n", &[], &["plan"]),
    (
        "non-numeric port",
        "",
        &[],
        &[
            "--source-url",
            "postgres://u:pw@db.example:abc/postgres",
            "plan",
        ],
    ),
    (
        "a slash in the password",
        "",
        &[],
        &[
            "--source-url",
            "postgres://u:pa/ss@db.example:5432/postgres",
            "plan",
        ],
    ),
    ("unknown subcommand", "", &[], &["frobnicate"]),
    ("a subcommand misspelt", "", &[], &["verfy"]),
    ("unknown flag", "", &[], &["plan", "--deep"]),
];

#[test]
fn configuration_and_usage_errors_are_one_line_with_a_fix() {
    let mut all = String::new();
    for (name, file, env, args) in CASES {
        let dir = support::temp_dir();
        let mut cmd = support::cmd_in(&dir);
        if !file.is_empty() {
            std::fs::write(dir.join("supamigrate.toml"), file).unwrap();
        }
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let out = cmd.args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: not one line:\n{stderr}");
        assert!(lines[0].starts_with("error: "), "{name}: {stderr}");
        assert_eq!(lines[0].matches("; fix: ").count(), 1, "{name}: {stderr}");
        assert!(
            !stderr.contains("pw@") && !stderr.contains("pa/ss"),
            "{name}: {stderr}"
        );
        writeln!(all, "{name}\n  {}", lines[0]).unwrap();
    }
    insta::assert_snapshot!(all);
}
