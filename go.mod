module github.com/bpfhost/bpfhost

go 1.26
