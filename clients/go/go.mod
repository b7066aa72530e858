module github.com/btfd/btfd/clients/go

go 1.19

require github.com/cilium/ebpf v0.9.1
