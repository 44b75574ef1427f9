// Package datadir is the appliance's data directory on disk: where every
// file lives (Layout), how a small file is replaced so that a crash leaves
// the old or the new one and never a mix (WriteFile, CreateFile), and how
// much room is left on its filesystem (Space).
//
// Every package that reads or writes under the data directory asks a
// Layout for the path; none builds one itself.
package datadir
