package config

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// maxSecretFile bounds what a *_file key may read: secrets are short, and a
// path such as /dev/zero must not exhaust memory.
const maxSecretFile = 64 << 10

// resolveFiles fills every key X that has a sibling X_file set, with the
// file's content minus trailing line breaks. Relative paths are relative to
// the working directory, like storage.bolt.path.
func resolveFiles(v reflect.Value, path string, errs *[]error) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			resolveFiles(v.Elem(), path, errs)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := range v.Len() {
				resolveFiles(v.Index(i), path+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	case reflect.Struct:
		t := v.Type()
		for _, f := range fieldsOf(t) {
			fv := v.Field(f.index)
			key := joinPath(path, f.key)
			if base, ok := strings.CutSuffix(f.key, "_file"); ok && fv.Kind() == reflect.String {
				if target, ok := fieldByKey(t, base); ok && v.Field(target.index).Kind() == reflect.String {
					resolveFile(fv.String(), v.Field(target.index), joinPath(path, base), key, errs)
					continue
				}
			}
			if !isLeaf(fv.Type()) {
				resolveFiles(fv, key, errs)
			}
		}
	}
}

func resolveFile(name string, target reflect.Value, targetKey, fileKey string, errs *[]error) {
	if name == "" {
		return
	}
	if target.String() != "" {
		*errs = append(*errs, fmt.Errorf("%s and %s are both set; set only one "+
			"(to override one of them from the environment, set the other to an empty string)",
			targetKey, fileKey))
		return
	}
	s, err := readSecretFile(name)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %w", fileKey, err))
		return
	}
	target.SetString(s)
}

func readSecretFile(name string) (string, error) {
	// Stat before opening: opening a FIFO for reading would block.
	st, err := os.Stat(name)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d KiB", name, maxSecretFile>>10)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return s, nil
}
