// Command loader reads LiveKit key files exactly as livekit-server v1.13.5
// does (pkg/config/config.go, ValidateKeys: yaml.v3's Decoder, one
// Decode into a fresh map[string]string) and prints, for each file named
// on the command line, one line:
//
//	<file> ok <n> <hex(key)>=<hex(secret)> ...   keys sorted
//	<file> error <message>
//
// The livekit-server permission check (no bits for others) is left out:
// it is about the file's mode, not its contents.
package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

func load(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	keys := map[string]string{}
	if err := yaml.NewDecoder(f).Decode(keys); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no keys")
	}
	return keys, nil
}

func main() {
	for _, path := range os.Args[1:] {
		keys, err := load(path)
		if err != nil {
			msg := strings.ReplaceAll(err.Error(), "\n", " ")
			fmt.Printf("%s error %s\n", path, msg)
			continue
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Printf("%s ok %d", path, len(names))
		for _, k := range names {
			fmt.Printf(" %s=%s", hex.EncodeToString([]byte(k)),
				hex.EncodeToString([]byte(keys[k])))
		}
		fmt.Println()
	}
}
