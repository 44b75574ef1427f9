// Package storage keeps the data directory within its limits and feeds the
// offloader: retention by age, a byte quota and a free-space floor delete
// the oldest recordings that are already offloaded first (recordings not
// yet offloaded only when the admin allows it), every deletion chained in
// the index with its reason; and the offloader's Source over the index.
package storage
