//! The stages together, through the real binary, on the Supabase-like
//! fixture: plan → schema → data → finalize → verify must pass with exit 0
//! on an Aurora-like target where our role is not superuser, and a rerun of
//! each stage must be a no-op that still succeeds.

mod support;

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = support::cmd_in(dir).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in [support::SOURCE_PASSWORD, support::TARGET_PASSWORD] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "secret leaked by {args:?}"
        );
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn the_fixture_migrates_and_verifies_clean() {
    let src = support::source_db("pipeline_src");
    let tgt = support::target_db("pipeline_tgt");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        format!(
            "[source]\nurl = \"{}\"\n[target]\nurl = \"{}\"\n[copy]\njobs = 2\n",
            src.url, tgt.url
        ),
    )
    .unwrap();

    for stage in ["plan", "schema", "data", "finalize"] {
        let (code, stdout, stderr) = run(dir.path(), &[stage]);
        assert_eq!(code, 0, "{stage} failed:\n{stdout}\n{stderr}");
    }
    // Plain keys were built as indexes in the parallel phase and then taken
    // over with USING INDEX; the partitioned table's key ran as dumped.
    let key_steps = support::psql(
        &tgt.url,
        "SELECT string_agg(kind || ': ' || sql, E'\n' ORDER BY id) FROM supamigrate.finalize_steps
         WHERE sql LIKE '%profiles_pkey%' OR sql LIKE '%events_pkey%'",
    );
    assert!(
        key_steps.contains(
            "index: CREATE UNIQUE INDEX IF NOT EXISTS \"profiles_pkey\" ON \"public\".\"profiles\""
        ) && key_steps.contains(
            "constraint: ALTER TABLE ONLY \"public\".\"profiles\" ADD CONSTRAINT \"profiles_pkey\" PRIMARY KEY USING INDEX \"profiles_pkey\""
        ) && key_steps.contains(
            "ADD CONSTRAINT \"events_pkey\" PRIMARY KEY (\"id\", \"occurred_at\");"
        ),
        "{key_steps}"
    );
    let report_dir = dir.path().join("report");
    let (code, stdout, stderr) = run(
        dir.path(),
        &["verify", "--report-dir", report_dir.to_str().unwrap()],
    );
    let report = std::fs::read_to_string(report_dir.join("report.json")).unwrap_or_default();
    assert_eq!(code, 0, "verify failed:\n{stdout}\n{stderr}\n{report}");
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["ok"], true);
    // Grants to platform roles are gone and postgres' own became the
    // target login role's ownership: each explained by its role rule.
    let rule_of = |object: &str| {
        v["schema"]["differences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["object"] == object)
            .map(|d| (d["difference"].clone(), d["rule"].clone()))
    };
    assert_eq!(
        rule_of("privilege table auth.users to dashboard_user"),
        Some(("missing".into(), "supabase.platform-roles".into()))
    );
    assert_eq!(
        rule_of("privilege schema storage to postgres"),
        Some(("missing".into(), "supabase.project-admin".into()))
    );
    assert_eq!(
        rule_of("default privileges for supabase_admin on tables in schema public to anon"),
        Some(("missing".into(), "supabase.platform-roles".into()))
    );
    let users = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"] == "auth" && t["name"] == "users")
        .expect("auth.users verified");
    assert!(users["target_rows"].as_i64().unwrap() > 0);
    assert_eq!(users["source_rows"], users["target_rows"]);

    // Every stage again: resumes to nothing and still succeeds.
    for stage in ["schema", "data", "finalize"] {
        let (code, stdout, stderr) = run(dir.path(), &[stage]);
        assert_eq!(code, 0, "rerun of {stage} failed:\n{stdout}\n{stderr}");
    }
    let (code, stdout, _) = run(dir.path(), &["status", "--json"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let stages: Vec<(String, String)> = status["run"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for stage in ["schema", "data", "finalize", "verify"] {
        assert!(
            stages.iter().any(|(s, st)| s == stage && st == "done"),
            "{stage} not done in {stages:?}"
        );
    }

    // A rule that only changed an object's owner (every table here went to
    // the login role) or dropped a grant on it explains nothing else about
    // it: RLS switched off, an enum label added, a column default, a
    // grant, a trigger on auth.users, a storage policy, a rule and extended
    // statistics gone are all unexplained differences.
    support::psql(
        &tgt.url,
        "ALTER TABLE public.profiles DISABLE ROW LEVEL SECURITY;
         ALTER TYPE public.user_role ADD VALUE 'intruder';
         ALTER TABLE public.reports ALTER COLUMN payload DROP DEFAULT;
         REVOKE SELECT ON public.reports FROM authenticated;
         DROP TRIGGER on_auth_user_created ON auth.users;
         DROP POLICY \"Avatars are publicly readable\" ON storage.objects;
         DROP RULE audit_trail_keep ON public.audit_trail;
         DROP STATISTICS public.reports_business_kind;",
    );
    let (code, stdout, stderr) = run(
        dir.path(),
        &["verify", "--report-dir", report_dir.to_str().unwrap()],
    );
    assert_eq!(code, 3, "tampered verify:\n{stdout}\n{stderr}");
    let report = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let unexplained: Vec<&str> = v["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["explained"] == false)
        .map(|d| d["object"].as_str().unwrap())
        .collect();
    assert_eq!(
        unexplained,
        vec![
            "column public.reports.payload",
            "enum public.user_role",
            "policy storage.objects.\"Avatars are publicly readable\"",
            "rule public.audit_trail.audit_trail_keep",
            "statistics public.reports_business_kind",
            "table public.profiles",
            "trigger auth.users.on_auth_user_created",
            "privilege table public.reports to authenticated",
        ],
        "{report}"
    );
}
