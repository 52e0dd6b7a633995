//! What a long read is doing, on a terminal: which listing is being read, how many of
//! its kind are done, and the pages read in all. Off in CI, with `-q`, and when stderr
//! is not a terminal (the decision is the CLI's: [`super::Settings::progress`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Default)]
pub struct Progress {
    enabled: bool,
    shown: Mutex<Option<Shown>>,
}

struct Shown {
    bar: ProgressBar,
    /// Per endpoint template: listings started, listings finished.
    listings: BTreeMap<&'static str, (u64, u64)>,
    pages: u64,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            shown: Mutex::new(None),
        }
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Option<Shown>> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts showing a read of `what`.
    pub fn begin(&self, what: &str) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_prefix(format!("Reading {what}:"));
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.shown() = Some(Shown {
            bar,
            listings: BTreeMap::new(),
            pages: 0,
        });
    }

    /// Stops showing, leaving nothing on the screen.
    pub fn end(&self) {
        if let Some(shown) = self.shown().take() {
            shown.bar.finish_and_clear();
        }
    }

    pub fn listing_started(&self, endpoint: &'static str) {
        if let Some(shown) = self.shown().as_mut() {
            shown.listings.entry(endpoint).or_default().0 += 1;
        }
    }

    pub fn page_read(&self, endpoint: &'static str, last: bool) {
        if let Some(shown) = self.shown().as_mut() {
            shown.pages += 1;
            let listing = shown.listings.entry(endpoint).or_default();
            if last {
                listing.1 += 1;
            }
            let (started, done) = *listing;
            shown.bar.set_message(format!(
                "{endpoint} {done}/{started}, {} pages in all",
                shown.pages
            ));
        }
    }
}
