// Package keys owns the appliance's Ed25519 signing key pair, stored under
// the data directory as DIR/keys/spanrec.key (PKCS#8 "PRIVATE KEY" PEM, mode
// 0600, directory 0700) and DIR/keys/spanrec.pub (PKIX "PUBLIC KEY" PEM, mode
// 0644). Keys are written atomically (temporary file, fsync, link/rename,
// directory fsync) so a power loss never leaves a half-written key.
package keys
