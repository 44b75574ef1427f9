package suites

import "testing"

// TestAgreesWithPion checks the table's lengths against pion's profiles.
func TestAgreesWithPion(t *testing.T) {
	for _, name := range Names() {
		s, ok := Lookup(name)
		if !ok || s.Name != name {
			t.Fatalf("%s: Lookup gives %+v, %v", name, s, ok)
		}
		key, _ := s.Profile.KeyLen()
		salt, _ := s.Profile.SaltLen()
		tag, _ := s.Profile.AuthTagRTPLen()
		if s.AEAD {
			tag, _ = s.Profile.AEADAuthTagLen()
		}
		if key != s.KeyLen || salt != s.SaltLen || tag != s.TagLen {
			t.Errorf("%s: table %d/%d/%d, pion %d/%d/%d", name, s.KeyLen, s.SaltLen, s.TagLen, key, salt, tag)
		}
	}
	for alias, name := range map[string]string{
		"AES_CM_256_HMAC_SHA1_80": "AES_256_CM_HMAC_SHA1_80",
		"AES_CM_256_HMAC_SHA1_32": "AES_256_CM_HMAC_SHA1_32",
		"aead_aes_128_gcm":        "AEAD_AES_128_GCM",
	} {
		if s, ok := Lookup(alias); !ok || s.Name != name {
			t.Errorf("%s resolves to %q", alias, s.Name)
		}
	}
}
