//! The HTML write-up in a real browser: headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`) renders scenario 17's report; the
//! screenshot must not be blank and the DOM it built must hold every
//! section, the three charts and the dump's `ctime` mark. Without
//! Chromium the test fails and says how to install it: it is never
//! skipped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chromium() -> PathBuf {
    let p = std::env::var_os("REDSLEUTH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.is_file(),
        "{} not found: install it (`apt-get install -y chromium`, as .ci/run does) or set REDSLEUTH_CHROMIUM",
        p.display()
    );
    p
}

fn html() -> String {
    let sc = "testdata/logs/17-no-ttl-oom-failover";
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "report",
            "--rdb",
            &format!("{sc}/debian-7.0.15.rdb"),
            "--logs",
            &format!("{sc}/debian-7.0.15"),
        ])
        .args(["--format", "html", "--quiet"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

fn browser(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("chromium could not run: {e}"));
    assert!(
        out.status.success(),
        "chromium failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn chromium_renders_the_sections_and_charts_of_the_html_write_up() {
    let page = html();
    // Self-contained: nothing to fetch.
    for s in ["<script", "<link", " src=", "href=\"http", "url("] {
        assert!(!page.contains(s), "the page refers to `{s}`");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());

    let dom = browser(dir.path(), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in [
        "verdict",
        "impact",
        "chain",
        "timeline",
        "memory",
        "root-cause",
        "actions",
        "evidence",
        "memory-chart",
        "ttl-chart",
        "timeline-chart",
        "dump-ctime",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no #{id} in the DOM");
    }
    assert!(dom.contains("oom_kill"));
    assert!(dom.contains("dump ctime 01:41:38.000"));
    // Every citation links to an entry of the evidence list.
    let targets: HashSet<&str> = dom
        .split("id=\"ev-")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let links: Vec<&str> = dom
        .split("href=\"#ev-")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert!(links.len() >= 10, "{} links", links.len());
    for l in &links {
        assert!(targets.contains(l), "[{l}] links nowhere");
    }

    let png = dir.path().join("shot.png");
    browser(
        dir.path(),
        &[
            "--window-size=1000,1600",
            &format!("--screenshot={}", png.display()),
            &url,
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let colors: HashSet<&[u8]> = pixels.iter().copied().collect();
    let inked = pixels
        .iter()
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    assert!(
        info.width >= 900 && info.height >= 1000,
        "{}x{}",
        info.width,
        info.height
    );
    // Text, the severity colours and the chart palette: many colours,
    // and a good part of the page is not background.
    assert!(colors.len() >= 50, "{} distinct colours", colors.len());
    assert!(
        inked * 100 >= pixels.len() * 2,
        "{inked} of {} pixels inked",
        pixels.len()
    );
}
