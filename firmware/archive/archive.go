package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"spanrec/firmware/anchor"
	"spanrec/firmware/offload"
)

// ErrArchive marks a failure to read the archive (listing, download).
var ErrArchive = errors.New("archive: cannot read the bucket")

// Object is one object of an appliance's folder.
type Object struct {
	// Key is the full key, "PREFIX/2026/11/25/<id>.wav".
	Key string
	// Name is the key below the prefix, "2026/11/25/<id>.wav".
	Name string
	// Size in bytes, Modified when the store took it.
	Size     int64
	Modified time.Time
}

// Appliance is one appliance's folder in the bucket.
type Appliance struct {
	// Prefix is the folder (the appliance's offload prefix).
	Prefix string
	// Recordings lists the WAV and raw media objects, by name.
	Recordings []Object
	// Manifests maps a recording's ID to its manifest object.
	Manifests map[string]Object
	// Anchors lists the anchors, by name (their time order).
	Anchors []Object
	// Keys lists the public key objects (spanrec.pub first).
	Keys []Object
	// Other lists anything else.
	Other []Object
}

// Bytes is the total size of the recordings.
func (a *Appliance) Bytes() int64 {
	var n int64
	for _, o := range a.Recordings {
		n += o.Size
	}
	return n
}

// recordingID returns the ID of a recording's name and whether it is one.
func recordingID(name string) (string, bool) {
	base := path.Base(name)
	for _, ext := range []string{".rtp.pcapng", ".wav"} {
		if id, ok := strings.CutSuffix(base, ext); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// List reads the bucket's folders; prefix "" lists every appliance.
func List(ctx context.Context, c *minio.Client, bucket, prefix string) ([]*Appliance, error) {
	var prefixes []string
	if prefix != "" {
		prefixes = []string{prefix}
	} else {
		for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{}) {
			if o.Err != nil {
				return nil, fmt.Errorf("%w: list %s: %w", ErrArchive, bucket, o.Err)
			}
			if p, ok := strings.CutSuffix(o.Key, "/"); ok && offload.ValidPrefix(p) {
				prefixes = append(prefixes, p)
			}
		}
	}
	sort.Strings(prefixes)
	var out []*Appliance
	for _, p := range prefixes {
		a := &Appliance{Prefix: p, Manifests: map[string]Object{}}
		for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: p + "/", Recursive: true}) {
			if o.Err != nil {
				return nil, fmt.Errorf("%w: list %s/%s: %w", ErrArchive, bucket, p, o.Err)
			}
			ob := Object{Key: o.Key, Name: strings.TrimPrefix(o.Key, p+"/"), Size: o.Size, Modified: o.LastModified}
			switch {
			case strings.HasPrefix(ob.Name, anchor.Dir+"/") && strings.HasSuffix(ob.Name, ".json"):
				a.Anchors = append(a.Anchors, ob)
			case !strings.Contains(ob.Name, "/") && strings.HasPrefix(ob.Name, "spanrec") && strings.HasSuffix(ob.Name, ".pub"):
				if ob.Name == offload.PublicKeyName {
					a.Keys = append([]Object{ob}, a.Keys...)
				} else {
					a.Keys = append(a.Keys, ob)
				}
			case strings.HasSuffix(ob.Name, ".json"):
				a.Manifests[strings.TrimSuffix(path.Base(ob.Name), ".json")] = ob
			default:
				if _, ok := recordingID(ob.Name); ok {
					a.Recordings = append(a.Recordings, ob)
				} else {
					a.Other = append(a.Other, ob)
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}
