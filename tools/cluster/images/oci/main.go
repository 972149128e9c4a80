// Builds one container image reproducibly and writes it as an OCI archive that
// `ctr images import` reads. The image is described by a JSON spec on standard input:
//
//	{"name": "shipgate.local/pause:1", "entrypoint": ["/pause"], "env": ["A=b"],
//	 "workingDir": "/", "user": "65534:65534",
//	 "files": [{"path": "pause", "source": "/abs/pause", "mode": 493}]}
//
// One layer holds the files (and the folders above them), in sorted order, owned by root, with
// every time fixed at the Unix epoch; the config has no creation time. The same inputs therefore
// give the same bytes and the same digest, on any machine. It prints the manifest's digest.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type file struct {
	Path   string `json:"path"`
	Source string `json:"source"`
	Mode   int64  `json:"mode"`
}

type spec struct {
	Name       string   `json:"name"`
	Entrypoint []string `json:"entrypoint"`
	Cmd        []string `json:"cmd"`
	Env        []string `json:"env"`
	WorkingDir string   `json:"workingDir"`
	User       string   `json:"user"`
	Files      []file   `json:"files"`
}

var epoch = time.Unix(0, 0).UTC()

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "oci: "+format+"\n", args...)
	os.Exit(1)
}

// layerTar writes the files and every folder above them, sorted by path, with fixed metadata.
func layerTar(files []file) []byte {
	dirs := map[string]bool{}
	byPath := map[string]file{}
	for _, f := range files {
		clean := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if clean == "" || clean == "." {
			fail("a file has an empty path: %+v", f)
		}
		if _, dup := byPath[clean]; dup {
			fail("the path %s is given twice", clean)
		}
		f.Path = clean
		byPath[clean] = f
		for dir := path.Dir(clean); dir != "."; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	names := make([]string, 0, len(dirs)+len(byPath))
	for d := range dirs {
		names = append(names, d)
	}
	for p := range byPath {
		names = append(names, p)
	}
	sort.Strings(names)
	var out bytes.Buffer
	w := tar.NewWriter(&out)
	for _, name := range names {
		header := &tar.Header{Name: name, ModTime: epoch, Uname: "", Gname: "", Format: tar.FormatPAX}
		f, isFile := byPath[name]
		if !isFile {
			header.Typeflag = tar.TypeDir
			header.Name += "/"
			header.Mode = 0o755
		} else {
			content, err := os.ReadFile(f.Source)
			if err != nil {
				fail("reading %s for %s: %v", f.Source, name, err)
			}
			header.Typeflag = tar.TypeReg
			header.Size = int64(len(content))
			header.Mode = f.Mode
			if header.Mode == 0 {
				header.Mode = 0o644
			}
			if err := w.WriteHeader(header); err != nil {
				fail("tar: %v", err)
			}
			if _, err := w.Write(content); err != nil {
				fail("tar: %v", err)
			}
			continue
		}
		if err := w.WriteHeader(header); err != nil {
			fail("tar: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		fail("tar: %v", err)
	}
	return out.Bytes()
}

// archiveEntry writes one regular file of the OCI archive with fixed metadata.
func archiveEntry(w *tar.Writer, name string, content []byte) {
	header := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content)), ModTime: epoch, Format: tar.FormatPAX}
	if err := w.WriteHeader(header); err != nil {
		fail("archive: %v", err)
	}
	if _, err := w.Write(content); err != nil {
		fail("archive: %v", err)
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: oci <archive.tar> < spec.json")
	}
	var s spec
	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&s); err != nil {
		fail("the spec on standard input is not valid: %v", err)
	}
	if s.Name == "" || len(s.Files) == 0 {
		fail("the spec needs a name and at least one file")
	}
	if colon := strings.LastIndex(s.Name, ":"); colon < 0 || strings.Contains(s.Name[colon:], "/") || strings.Contains(s.Name, "@") {
		fail("the name %q is not a tagged reference: expected <repository>:<tag>", s.Name)
	}
	layerBytes := layerTar(s.Files)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		fail("layer: %v", err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), layer)
	if err != nil {
		fail("image: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		fail("config: %v", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: epoch}
	cfg.History = nil
	cfg.Config = v1.Config{Entrypoint: s.Entrypoint, Cmd: s.Cmd, Env: s.Env, WorkingDir: s.WorkingDir, User: s.User}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		fail("config: %v", err)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		fail("manifest: %v", err)
	}
	digest, err := img.Digest()
	if err != nil {
		fail("digest: %v", err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		fail("config: %v", err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		fail("config digest: %v", err)
	}
	layerDigest, err := layer.Digest()
	if err != nil {
		fail("layer digest: %v", err)
	}
	compressed, err := layer.Compressed()
	if err != nil {
		fail("layer: %v", err)
	}
	layerBlob, err := io.ReadAll(compressed)
	if err != nil {
		fail("layer: %v", err)
	}
	// Two names for the one manifest: the tag, for people, and the digest reference, which is how
	// the kubelet asks for an image pinned by digest (the container runtime finds a local image
	// only by a name it holds).
	repository := s.Name[:strings.LastIndex(s.Name, ":")]
	descriptors := []map[string]any{}
	for _, name := range []string{s.Name, repository + "@" + digest.String()} {
		descriptors = append(descriptors, map[string]any{
			"mediaType":   types.OCIManifestSchema1,
			"digest":      digest.String(),
			"size":        len(manifest),
			"annotations": map[string]string{"io.containerd.image.name": name},
		})
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIImageIndex,
		"manifests":     descriptors,
	})
	if err != nil {
		fail("index: %v", err)
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	w := tar.NewWriter(out)
	archiveEntry(w, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	archiveEntry(w, "index.json", index)
	blobs := map[string][]byte{digest.Hex: manifest, configDigest.Hex: config, layerDigest.Hex: layerBlob}
	hexes := make([]string, 0, len(blobs))
	for h := range blobs {
		hexes = append(hexes, h)
	}
	sort.Strings(hexes)
	for _, h := range hexes {
		archiveEntry(w, "blobs/sha256/"+h, blobs[h])
	}
	if err := w.Close(); err != nil {
		fail("archive: %v", err)
	}
	if err := out.Close(); err != nil {
		fail("archive: %v", err)
	}
	fmt.Println(digest.String())
}
