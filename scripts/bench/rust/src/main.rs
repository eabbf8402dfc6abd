//! The seed's Rust word count, as a benchmark peer: whole whitespace-separated
//! tokens equal to a target, by `split_whitespace`, sequentially or over lines
//! with rayon's `par_lines`.
//!
//!     seedcount [--par] FILE TARGET...
//!
//! prints `target=count` for each target, in order, on one line. Several
//! targets are counted in one pass over the tokens (with one target the pass
//! is exactly `split_whitespace().filter(|w| *w == target).count()`).
//! `split_whitespace` splits on Unicode White_Space, which is Python's
//! `str.split()` set without U+001C..U+001F; the bench checks the answers
//! against tally's on its input.

use rayon::prelude::*;
use std::process::exit;

fn count(text: &str, targets: &[String]) -> Vec<usize> {
    if let [target] = targets {
        return vec![text.split_whitespace().filter(|w| *w == target).count()];
    }
    let mut counts = vec![0; targets.len()];
    for w in text.split_whitespace() {
        if let Some(i) = targets.iter().position(|t| t == w) {
            counts[i] += 1;
        }
    }
    counts
}

fn count_par(text: &str, targets: &[String]) -> Vec<usize> {
    if let [target] = targets {
        let n = text
            .par_lines()
            .map(|l| l.split_whitespace().filter(|w| *w == target).count())
            .sum();
        return vec![n];
    }
    text.par_lines()
        .fold(
            || vec![0; targets.len()],
            |mut acc, l| {
                for (a, n) in acc.iter_mut().zip(count(l, targets)) {
                    *a += n;
                }
                acc
            },
        )
        .reduce(
            || vec![0; targets.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let par = args.first().is_some_and(|a| a == "--par");
    if par {
        args.remove(0);
    }
    if args.len() < 2 {
        eprintln!("usage: seedcount [--par] FILE TARGET...");
        exit(2);
    }
    let bytes = std::fs::read(&args[0]).unwrap_or_else(|e| {
        eprintln!("seedcount: {}: {}", args[0], e);
        exit(1);
    });
    // Invalid UTF-8 becomes U+FFFD, which is neither whitespace nor a
    // target's character, so tokens and matches stay as Python counts them.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let targets = &args[1..];
    let counts = if par { count_par(&text, targets) } else { count(&text, targets) };
    let parts: Vec<String> = targets
        .iter()
        .zip(counts)
        .map(|(t, n)| format!("{t}={n}"))
        .collect();
    println!("{}", parts.join(" "));
}
