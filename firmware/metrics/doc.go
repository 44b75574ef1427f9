// Package metrics serves the appliance's counters and states as Prometheus
// metrics (the text exposition format) on the management side.
//
// A [Source] gives one consistent [Snapshot] per scrape; the [Collector]
// turns it into constant metrics, so nothing is kept between scrapes and
// nothing here touches the daemon's state: the daemon builds the snapshot
// the way it answers `status` (in its capture loop). [NewRegistry] puts the
// collector in a registry of its own (never the global default one) with
// the Go runtime and process collectors; [Serve] answers GET /metrics on a
// listener until its context ends.
//
// Metric names start with spanrec_; every one is listed in the README.
// Histograms of call quality are left out until the index holds the
// quality of each call.
package metrics
