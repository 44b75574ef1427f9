package metrics

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"spanrec/media/quality"
)

// desc is one metric's description and kind.
type desc struct {
	d    *prometheus.Desc
	kind prometheus.ValueType
}

func newDesc(name, help string, kind prometheus.ValueType, labels ...string) desc {
	return desc{prometheus.NewDesc("spanrec_"+name, help, labels, nil), kind}
}

// Collector is a prometheus.Collector over a Source: each Collect takes
// one snapshot.
type Collector struct {
	src Source

	ifPackets, ifBytes, ifKernelDrops, ifUserDrops, ifLinkUp desc
	frames, sip                                              desc
	active, recording, paused                                desc
	callsSeen, recorded, rawMedia, failed, notRecorded       desc
	refused                                                  desc
	stUsed, stFree, stTotal, stRecordings, stDeleted         desc
	offEnabled, offPending, offLastSuccess, offFailures      desc
	offRunning                                               desc
	anchorTime                                               desc
	fault                                                    desc
	clockSynced, clockEst, clockMax                          desc
	startTime                                                desc
	syslogDropped                                            desc
	pauses, poorQuality                                      desc
	mos, jitter, loss                                        *prometheus.Desc
}

// NewCollector returns a Collector reading src at each scrape.
func NewCollector(src Source) *Collector {
	c, g := prometheus.CounterValue, prometheus.GaugeValue
	return &Collector{
		src:            src,
		ifPackets:      newDesc("capture_frames_total", "Frames captured on the interface.", c, "interface"),
		ifBytes:        newDesc("capture_bytes_total", "Bytes captured on the interface.", c, "interface"),
		ifKernelDrops:  newDesc("capture_kernel_drops_total", "Frames the kernel dropped on the interface (capture ring full).", c, "interface"),
		ifUserDrops:    newDesc("capture_user_drops_total", "Frames spanrec dropped on the interface (queue full).", c, "interface"),
		ifLinkUp:       newDesc("capture_link_up", "1 while the capture interface has link.", g, "interface"),
		frames:         newDesc("frames_total", "Frames handed to the pipeline, all interfaces.", c),
		sip:            newDesc("sip_messages_total", "SIP messages parsed.", c),
		active:         newDesc("calls_active", "Calls in the call table.", g),
		recording:      newDesc("calls_recording", "Calls being recorded now.", g),
		paused:         newDesc("calls_paused", "Calls whose recording is paused now.", g),
		callsSeen:      newDesc("calls_total", "Calls started since the daemon started.", c),
		recorded:       newDesc("recordings_total", "Recordings with audio finished, signed and indexed.", c),
		rawMedia:       newDesc("raw_media_total", "Raw media files (media not decoded) finished, signed and indexed.", c),
		failed:         newDesc("recordings_failed_total", "Recordings that hit an I/O error.", c),
		notRecorded:    newDesc("calls_not_recorded_total", "Calls indexed without a file (not recorded, or no media).", c),
		refused:        newDesc("refused_total", "SIP messages, SDP addresses and media packets refused, by reason.", c, "reason"),
		stUsed:         newDesc("storage_used_bytes", "Bytes used by recordings on the data partition.", g),
		stFree:         newDesc("storage_free_bytes", "Free bytes on the data partition.", g),
		stTotal:        newDesc("storage_size_bytes", "Size of the data partition.", g),
		stRecordings:   newDesc("storage_recordings", "Recordings on the data partition.", g),
		stDeleted:      newDesc("storage_deleted_total", "Recordings deleted by retention and quota since start.", c),
		offEnabled:     newDesc("offload_enabled", "1 when offload is configured.", g),
		offPending:     newDesc("offload_backlog_recordings", "Recordings waiting for offload.", g),
		offLastSuccess: newDesc("offload_last_success_timestamp_seconds", "When the last offload run without error ended (0: none yet).", g),
		offFailures:    newDesc("offload_consecutive_failures", "Failed offload runs since the last success.", g),
		offRunning:     newDesc("offload_running", "1 while an offload run is in progress.", g),
		anchorTime:     newDesc("anchor_last_timestamp_seconds", "When the last chain head was anchored on the share (0: never); anchor age is time() minus this.", g),
		fault:          newDesc("fault", "1 while the fault is present, by fault name.", g, "fault"),
		clockSynced:    newDesc("clock_synced", "1 while the kernel clock is synchronised (adjtimex), 0 otherwise.", g),
		clockEst:       newDesc("clock_estimated_error_seconds", "The kernel's estimated clock error.", g),
		clockMax:       newDesc("clock_max_error_seconds", "The kernel's maximum clock error.", g),
		startTime:      newDesc("start_time_seconds", "When the daemon started.", g),
		syslogDropped:  newDesc("syslog_dropped_total", "Log messages the remote syslog copy dropped (queue full, server unreachable).", c),
		pauses:         newDesc("pauses_total", "Pauses of recording started since start (console, web, button, DTMF).", c),
		poorQuality:    newDesc("recordings_poor_quality_total", "Recordings flagged poor-quality (MOS below quality.poor_mos) since start.", c),
		mos:            prometheus.NewDesc("spanrec_call_quality_mos", "Estimated MOS (ITU-T G.107 E-model) of each direction of the recordings scored since start.", nil, nil),
		jitter:         prometheus.NewDesc("spanrec_call_quality_jitter_max_seconds", "Maximum RFC 3550 interarrival jitter of each direction of the recordings scored since start.", nil, nil),
		loss:           prometheus.NewDesc("spanrec_call_quality_loss_ratio", "Packet loss (sequence gaps) of each direction of the recordings scored since start.", nil, nil),
	}
}

func (c *Collector) descs() []desc {
	return []desc{c.ifPackets, c.ifBytes, c.ifKernelDrops, c.ifUserDrops, c.ifLinkUp, c.frames, c.sip,
		c.active, c.recording, c.paused, c.callsSeen, c.recorded, c.rawMedia, c.failed, c.notRecorded,
		c.refused, c.stUsed, c.stFree, c.stTotal, c.stRecordings, c.stDeleted,
		c.offEnabled, c.offPending, c.offLastSuccess, c.offFailures, c.offRunning,
		c.anchorTime, c.fault, c.clockSynced, c.clockEst, c.clockMax, c.startTime, c.syslogDropped,
		c.pauses, c.poorQuality}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d.d
	}
	ch <- c.mos
	ch <- c.jitter
	ch <- c.loss
}

// histogram is a quality histogram in Prometheus's terms, its bounds and
// sum divided by div (milliseconds to seconds, percent to a ratio).
func histogram(d *prometheus.Desc, h *quality.Histogram, bounds *[len(quality.MOSBounds)]float64, div float64) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	for b, n := range h.Cumulative(bounds) {
		buckets[b/div] = n
	}
	return prometheus.MustNewConstHistogram(d, h.Count(), h.Sum/div, buckets)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Snapshot()
	emit := func(d desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d.d, d.kind, v, labels...)
	}
	for _, is := range s.Interfaces {
		emit(c.ifPackets, float64(is.Packets), is.Name)
		emit(c.ifBytes, float64(is.Bytes), is.Name)
		emit(c.ifKernelDrops, float64(is.KernelDrops), is.Name)
		emit(c.ifUserDrops, float64(is.UserDrops), is.Name)
		emit(c.ifLinkUp, b2f(is.LinkUp), is.Name)
	}
	emit(c.frames, float64(s.Frames))
	emit(c.sip, float64(s.SIPMessages))
	emit(c.active, float64(s.ActiveCalls))
	emit(c.recording, float64(s.RecordingCalls))
	emit(c.paused, float64(s.PausedCalls))
	emit(c.callsSeen, float64(s.CallsSeen))
	emit(c.recorded, float64(s.Recorded))
	emit(c.rawMedia, float64(s.RawMedia))
	emit(c.failed, float64(s.Failed))
	emit(c.notRecorded, float64(s.NotRecorded))
	for _, r := range slices.Sorted(mapsKeys(s.Refused)) {
		emit(c.refused, float64(s.Refused[r]), r)
	}
	emit(c.stUsed, float64(s.StorageUsedBytes))
	emit(c.stFree, float64(s.StorageFreeBytes))
	emit(c.stTotal, float64(s.StorageTotalBytes))
	emit(c.stRecordings, float64(s.StorageRecordings))
	emit(c.stDeleted, float64(s.StorageDeleted))
	emit(c.offEnabled, b2f(s.Offload != nil))
	if o := s.Offload; o != nil {
		emit(c.offPending, float64(o.Pending))
		emit(c.offLastSuccess, unixSeconds(o.LastSuccess))
		emit(c.offFailures, float64(o.ConsecutiveFailures))
		emit(c.offRunning, b2f(o.Running))
	}
	emit(c.anchorTime, unixSeconds(s.AnchorTime))
	for _, f := range slices.Sorted(mapsKeys(s.Faults)) {
		emit(c.fault, b2f(s.Faults[f]), FaultLabel(f))
	}
	if s.ClockKnown {
		emit(c.clockSynced, b2f(s.ClockSynced))
		emit(c.clockEst, s.ClockEstErrorSeconds)
		emit(c.clockMax, s.ClockMaxErrorSeconds)
	}
	emit(c.startTime, unixSeconds(s.StartTime))
	if s.SyslogDropped != nil {
		emit(c.syslogDropped, float64(*s.SyslogDropped))
	}
	emit(c.pauses, float64(s.Pauses))
	emit(c.poorQuality, float64(s.PoorQuality))
	q := &s.Quality
	ch <- histogram(c.mos, &q.MOS, &quality.MOSBounds, 1)
	ch <- histogram(c.jitter, &q.JitterMS, &quality.JitterBoundsMS, 1000)
	ch <- histogram(c.loss, &q.LossPercent, &quality.LossBoundsPercent, 100)
}

// FaultLabel is a fault's name as a label value: "capture link down"
// becomes "capture_link_down".
func FaultLabel(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, name)
}
