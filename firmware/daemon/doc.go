// Package daemon is `spanrec run`: the appliance's main job. It captures
// live from the SPAN interfaces through the same pipeline as the importer,
// runs the time-driven work (timeouts, splitting long calls), answers the
// control socket, reloads its configuration on SIGHUP without dropping
// calls, and on shutdown finalises, signs and indexes every open recording.
//
// All call state is owned by one goroutine, the capture loop; control
// requests are handed to it as closures and run between frames.
package daemon
