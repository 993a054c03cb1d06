// Command bboltpeer is the Go reference for podnet-bbolt's tests, built against Debian's
// go.etcd.io/bbolt (the version podman 4.3 uses):
//
//	bboltpeer check FILE        bbolt's tx.Check(), plus every key found again by Get
//	bboltpeer dump FILE         all buckets as JSON (keys and values in hex)
//	bboltpeer load FILE [PS]    replaces all buckets by the JSON tree on stdin, in one
//	                            bbolt Update, creating FILE with page size PS if needed
//	bboltpeer ipambench FILE NET SUBNET N
//	                            N times the bbolt writes of containers/common's allocIPs
//	                            and deallocIPs for one IPv4 address (open, Update,
//	                            Close, twice), printing the total nanoseconds
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// tree is one bucket: its sequence, its values and its nested buckets.
type tree struct {
	Seq     uint64            `json:"seq"`
	Values  map[string]string `json:"values"`
	Buckets map[string]*tree  `json:"buckets"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bboltpeer: "+format+"\n", args...)
	os.Exit(1)
}

func openRO(path string) *bolt.DB {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		fail("open %s: %v", path, err)
	}
	return db
}

func dumpBucket(b *bolt.Bucket) *tree {
	t := &tree{Seq: b.Sequence(), Values: map[string]string{}, Buckets: map[string]*tree{}}
	_ = b.ForEach(func(k, v []byte) error {
		if child := b.Bucket(k); child != nil {
			t.Buckets[hex.EncodeToString(k)] = dumpBucket(child)
		} else {
			t.Values[hex.EncodeToString(k)] = hex.EncodeToString(v)
		}
		return nil
	})
	return t
}

// findAgain checks that every key a cursor yields is found by Get: a b+tree whose keys
// are out of order would iterate but not be searchable.
func findAgain(b *bolt.Bucket, path string) []string {
	var errs []string
	var prev []byte
	_ = b.ForEach(func(k, v []byte) error {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			errs = append(errs, fmt.Sprintf("%s: key %x after %x", path, k, prev))
		}
		prev = append([]byte(nil), k...)
		if child := b.Bucket(k); child != nil {
			errs = append(errs, findAgain(child, path+"/"+hex.EncodeToString(k))...)
		} else if got := b.Get(k); !bytes.Equal(got, v) {
			errs = append(errs, fmt.Sprintf("%s: Get(%x) does not find the value", path, k))
		}
		return nil
	})
	return errs
}

func check(path string) {
	db := openRO(path)
	defer db.Close()
	var errs []string
	_ = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err.Error())
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			errs = append(errs, findAgain(b, hex.EncodeToString(name))...)
			return nil
		})
	})
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		os.Exit(1)
	}
	fmt.Println("ok")
}

func dump(path string) {
	db := openRO(path)
	defer db.Close()
	root := &tree{Values: map[string]string{}, Buckets: map[string]*tree{}}
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			root.Buckets[hex.EncodeToString(name)] = dumpBucket(b)
			return nil
		})
	})
	out, err := json.Marshal(root)
	if err != nil {
		fail("marshal: %v", err)
	}
	fmt.Println(string(out))
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		fail("bad hex %q: %v", s, err)
	}
	return b
}

func fill(b *bolt.Bucket, t *tree) error {
	for k, v := range t.Values {
		if err := b.Put(unhex(k), unhex(v)); err != nil {
			return err
		}
	}
	for k, child := range t.Buckets {
		nb, err := b.CreateBucket(unhex(k))
		if err != nil {
			return err
		}
		if err := fill(nb, child); err != nil {
			return err
		}
	}
	return b.SetSequence(t.Seq)
}

func load(path string, pageSize int) {
	var root tree
	if err := json.NewDecoder(os.Stdin).Decode(&root); err != nil {
		fail("decode stdin: %v", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: pageSize})
	if err != nil {
		fail("open %s: %v", path, err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		var names [][]byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, append([]byte(nil), name...))
			return nil
		})
		for _, name := range names {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		for k, child := range root.Buckets {
			b, err := tx.CreateBucket(unhex(k))
			if err != nil {
				return err
			}
			if err := fill(b, child); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail("update %s: %v", path, err)
	}
	fmt.Println("ok")
}

// ipamBench repeats the writes ipam.go makes to allocate and release one address, each
// in its own bbolt.Open/Update/Close as podman does.
func ipamBench(path, network, subnet string, n int) {
	ip := []byte{10, 90, 255, 254}
	id := []byte("bench-container")
	open := func() *bolt.DB {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			fail("open %s: %v", path, err)
		}
		return db
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		db := open()
		err := db.Update(func(tx *bolt.Tx) error {
			net, err := tx.CreateBucketIfNotExists([]byte(network))
			if err != nil {
				return err
			}
			sub, err := net.CreateBucketIfNotExists([]byte(subnet))
			if err != nil {
				return err
			}
			if sub.Get(ip) != nil {
				return fmt.Errorf("%v is taken", ip)
			}
			if err := sub.Put([]byte("lastIP"), ip); err != nil {
				return err
			}
			if err := sub.Put(ip, id); err != nil {
				return err
			}
			ids, err := net.CreateBucketIfNotExists([]byte("ids"))
			if err != nil {
				return err
			}
			return ids.Put(id, []byte(`["10.90.255.254"]`))
		})
		if err == nil {
			err = db.Close()
		}
		if err != nil {
			fail("allocate: %v", err)
		}
		db = open()
		err = db.Update(func(tx *bolt.Tx) error {
			net := tx.Bucket([]byte(network))
			if err := net.Bucket([]byte(subnet)).Delete(ip); err != nil {
				return err
			}
			return net.Bucket([]byte("ids")).Delete(id)
		})
		if err == nil {
			err = db.Close()
		}
		if err != nil {
			fail("release: %v", err)
		}
	}
	fmt.Println(time.Since(start).Nanoseconds())
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: bboltpeer check|dump|load FILE [PAGESIZE]")
	}
	switch os.Args[1] {
	case "check":
		check(os.Args[2])
	case "dump":
		dump(os.Args[2])
	case "load":
		pageSize := 0
		if len(os.Args) > 3 {
			n, err := strconv.Atoi(os.Args[3])
			if err != nil {
				fail("bad page size %q", os.Args[3])
			}
			pageSize = n
		}
		load(os.Args[2], pageSize)
	case "ipambench":
		if len(os.Args) != 6 {
			fail("usage: bboltpeer ipambench FILE NET SUBNET N")
		}
		n, err := strconv.Atoi(os.Args[5])
		if err != nil {
			fail("bad count %q", os.Args[5])
		}
		ipamBench(os.Args[2], os.Args[3], os.Args[4], n)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
