//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no external assets) that reads offline and can be attached to a change
//! ticket. The verdict comes first; then tables, a chart of table sizes and
//! verify times, mismatch samples (key values only), sequences, schema
//! differences with their rules, and storage.

use std::fmt::Write;

use super::report::Report;

/// Escapes text for HTML element content and double-quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{margin-bottom:.2em}.meta{color:#555}
.verdict{font-size:2em;font-weight:bold;padding:.5em 1em;border-radius:8px;margin:1em 0}
.ok{background:#d9f2dd;color:#0b5d1e}.bad{background:#fbdcdc;color:#8a1111}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;font-size:.9em}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fff1f1}code{font-size:.85em;word-break:break-all}
.chart text{font-size:11px;font-family:system-ui,sans-serif}";

pub fn render(r: &Report) -> String {
    let mut h = String::new();
    let verdict = if r.ok {
        "PASS: source and target match"
    } else {
        "FAIL: differences found"
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>supamigrate verify {run}: {v}</title><style>{STYLE}</style></head><body>\
         <h1>supamigrate verification</h1>\
         <p class=\"meta\">run {run} &middot; {start} to {end} &middot; source {src} &middot; target {tgt}{deep}</p>\
         <div id=\"verdict\" class=\"verdict {cls}\">{v}</div>",
        run = esc(&r.run),
        v = verdict,
        start = esc(&r.started_at),
        end = esc(&r.finished_at),
        src = esc(&r.source),
        tgt = esc(&r.target),
        deep = if r.deep { " &middot; deep storage check" } else { "" },
        cls = if r.ok { "ok" } else { "bad" },
    );
    let s = &r.summary;
    let _ = write!(
        h,
        "<table><tr><th>tables</th><th>tables differing</th><th>rows source</th><th>rows target</th>\
         <th>sequences differing</th><th>unexplained schema differences</th><th>storage problems</th><th>seconds</th></tr>\
         <tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}</td></tr></table>",
        s.tables,
        s.tables_differing,
        s.rows_source,
        s.rows_target,
        s.sequences_differing,
        s.schema_unexplained,
        s.objects_differing,
        s.seconds
    );
    tables(&mut h, r);
    left_out(&mut h, r);
    chart(&mut h, r);
    samples(&mut h, r);
    sequences(&mut h, r);
    schema(&mut h, r);
    storage(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

fn tables(h: &mut String, r: &Report) {
    h.push_str("<h2>Tables</h2><table><tr><th>table</th><th>key</th><th>source rows</th><th>target rows</th>\
                <th>missing</th><th>extra</th><th>different</th><th>status</th><th>source checksum</th><th>target checksum</th></tr>");
    for t in &r.tables {
        let key = if t.key.is_empty() {
            "(none: multiset)".to_string()
        } else {
            t.key.join(", ")
        };
        let _ = write!(
            h,
            "<tr class=\"{cls}\"><td>{schema}.{name}</td><td>{key}</td><td class=\"n\">{sr}</td><td class=\"n\">{tr}</td>\
             <td class=\"n\">{m}</td><td class=\"n\">{x}</td><td class=\"n\">{d}</td><td>{status}</td>\
             <td><code>{sc}</code></td><td><code>{tc}</code></td></tr>",
            cls = if t.matches { "" } else { "bad" },
            schema = esc(&t.schema),
            name = esc(&t.name),
            key = esc(&key),
            sr = t.source_rows,
            tr = t.target_rows,
            m = t.missing,
            x = t.extra,
            d = t.different,
            status = if t.matches { "match" } else { "DIFFERS" },
            sc = &t.source_checksum[..16.min(t.source_checksum.len())],
            tc = &t.target_checksum[..16.min(t.target_checksum.len())],
        );
    }
    h.push_str("</table>");
}

fn left_out(h: &mut String, r: &Report) {
    if r.left_out.is_empty() {
        return;
    }
    h.push_str("<h2>Not carried, not compared</h2><table><tr><th>schema</th><th>tables</th><th>rule</th><th>reason</th></tr>");
    for l in &r.left_out {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&l.schema),
            l.tables,
            esc(&l.rule),
            esc(&l.reason)
        );
    }
    h.push_str("</table>");
}

/// Two bars per table: size on disk and time spent verifying, each scaled to
/// its own maximum.
fn chart(h: &mut String, r: &Report) {
    if r.tables.is_empty() {
        return;
    }
    let max_bytes = r.tables.iter().map(|t| t.bytes).max().unwrap_or(0).max(1) as f64;
    let max_secs = r
        .tables
        .iter()
        .map(|t| t.seconds)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (260.0, 300.0, 22.0);
    let width = label_w + 2.0 * bar_w + 40.0;
    let height = 30.0 + row_h * r.tables.len() as f64;
    let _ = write!(
        h,
        "<h2>Table sizes and verify times</h2><svg class=\"chart\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"table sizes and verify times\">\
         <text x=\"{label_w}\" y=\"14\">size on disk (max {mb:.2} MB)</text>\
         <text x=\"{x2}\" y=\"14\">verify time (max {max_secs:.3} s)</text>",
        mb = max_bytes / 1_048_576.0,
        x2 = label_w + bar_w + 20.0,
    );
    for (i, t) in r.tables.iter().enumerate() {
        let y = 22.0 + row_h * i as f64;
        let bw = (t.bytes as f64 / max_bytes * bar_w).max(1.0);
        let sw = (t.seconds / max_secs * bar_w).max(1.0);
        let fill = if t.matches { "#4a90d9" } else { "#d94a4a" };
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{ty}\">{name}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{bw:.1}\" height=\"14\" fill=\"{fill}\"><title>{bytes} bytes</title></rect>\
             <rect x=\"{x2}\" y=\"{y}\" width=\"{sw:.1}\" height=\"14\" fill=\"#8a6fd1\"><title>{secs:.3} s</title></rect>",
            ty = y + 11.0,
            name = esc(&format!("{}.{}", t.schema, t.name)),
            bytes = t.bytes,
            x2 = label_w + bar_w + 20.0,
            secs = t.seconds,
        );
    }
    h.push_str("</svg>");
}

fn samples(h: &mut String, r: &Report) {
    let differing: Vec<_> = r.tables.iter().filter(|t| !t.matches).collect();
    if differing.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Mismatches</h2><p>Key values only; a table without a key shows counts only.</p>",
    );
    for t in differing {
        let _ = write!(
            h,
            "<h3>{}.{}</h3><p>{} missing on the target, {} extra on the target, {} different; showing {}.</p>",
            esc(&t.schema),
            esc(&t.name),
            t.missing,
            t.extra,
            t.different,
            t.mismatches.len()
        );
        if t.mismatches.is_empty() {
            continue;
        }
        h.push_str("<table><tr><th>kind</th><th>key</th></tr>");
        for m in &t.mismatches {
            let key = serde_json::Value::Object(m.key.clone()).to_string();
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                m.kind,
                esc(&key)
            );
        }
        h.push_str("</table>");
    }
}

fn sequences(h: &mut String, r: &Report) {
    h.push_str("<h2>Sequences</h2>");
    if r.sequences.is_empty() {
        h.push_str("<p>No sequences.</p>");
        return;
    }
    h.push_str("<table><tr><th>sequence</th><th>next value source</th><th>next value target</th><th>status</th></tr>");
    for s in &r.sequences {
        let _ = write!(
            h,
            "<tr class=\"{}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            if s.matches { "" } else { "bad" },
            esc(&s.name),
            s.source,
            s.target,
            if s.matches { "match" } else { "DIFFERS" }
        );
    }
    h.push_str("</table>");
}

fn schema(h: &mut String, r: &Report) {
    h.push_str("<h2>Schema differences</h2>");
    if r.schema.differences.is_empty() {
        h.push_str("<p>None: the inventories match.</p>");
        return;
    }
    let unexplained = r.schema.differences.iter().filter(|d| !d.explained);
    let failures = unexplained.clone().count();
    let _ = write!(
        h,
        "<p>{failures} unexplained, {} explained by a rule (listed after).</p>",
        r.schema.differences.len() - failures
    );
    h.push_str("<table><tr><th>object</th><th>difference</th><th>rule</th><th>reason</th></tr>");
    // A Supabase project has a hundred explained differences (grants to
    // platform roles alone); the failures go first so none is buried.
    for d in unexplained.chain(r.schema.differences.iter().filter(|d| d.explained)) {
        let _ = write!(
            h,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if d.explained { "" } else { "bad" },
            esc(&d.object),
            d.difference,
            esc(d.rule.as_deref().unwrap_or("UNEXPLAINED")),
            esc(d.reason.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");
}

fn storage(h: &mut String, r: &Report) {
    h.push_str("<h2>Storage</h2>");
    let o = &r.objects;
    if !o.checked {
        let _ = write!(
            h,
            "<p>Not checked: {}.</p>",
            esc(o.note.as_deref().unwrap_or("no storage configured"))
        );
        return;
    }
    let _ = write!(
        h,
        "<p>{} objects on the source ({} bytes), {} in the mapped S3 buckets; metadata table {}.</p>",
        o.source_count,
        o.bytes,
        o.target_count,
        esc(o.metadata_table.as_deref().unwrap_or("not found"))
    );
    if o.mismatches.is_empty() {
        return;
    }
    h.push_str("<table><tr><th>bucket</th><th>key</th><th>problem</th></tr>");
    for m in &o.mismatches {
        let _ = write!(
            h,
            "<tr class=\"bad\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.bucket),
            esc(&m.key),
            esc(&m.problem)
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
