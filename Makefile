# degen — build, test and benchmark. `make help` lists the targets.
GO      ?= go
BIN     ?= degen
CUDABIN ?= degen-cuda

.PHONY: help build test test-go test-emu test-cuda-build bench bench-cpu fuzz ptx cuda gpu-check gpu-check-dryrun demo clean

help:
	@echo "make build      build the CPU binary ./$(BIN)"
	@echo "make demo       build and run the small default job (train, eval, analyze)"
	@echo "make test       everything CI runs: vet, unit tests, fuzz smoke, GPU backend on the CPU emulator, CUDA build and PTX checks"
	@echo "make test-emu   the GPU backend's tests on the CPU emulator of its kernels (-tags cudaemu)"
	@echo "make bench      CPU benchmarks against the PyTorch CPU peer (bench/cpu_vs_torch.sh)"
	@echo "make ptx        regenerate kernels/kernels.ptx and hopper.ptx from kernels/*.cu (needs nvcc)"
	@echo "make cuda       build the GPU binary ./$(CUDABIN) (needs the CUDA toolkit)"
	@echo "make gpu-check  on a GPU host: conformance, end-to-end and benchmark script"
	@echo "make gpu-check-dryrun  the same script on the CPU emulator, to check it before a GPU session"

build:
	$(GO) build -o $(BIN) ./cmd/degen

# The small default job: 8 flip-flop networks trained, evaluated and analysed.
demo: build
	./$(BIN) train --out runs/demo --force
	./$(BIN) eval runs/demo
	./$(BIN) analyze runs/demo

# CI's command (.ci/run): every GPU-free check.
test: test-go test-emu test-cuda-build

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	# Budgets in executions, not seconds (about 10 s each on 2 idle cores): a
	# duration-based -fuzztime can end in a spurious "context deadline
	# exceeded" failure, a race in Go's fuzz coordinator up to Go 1.26
	# (go.dev/issue/75804) that CI hit under load. Minimisation off for the
	# same reason.
	$(GO) test -run '^$$' -fuzz FuzzLoadConfig -fuzztime 8000x -fuzzminimizetime 0 .
	$(GO) test -run '^$$' -fuzz FuzzReadNPZ -fuzztime 100000x -fuzzminimizetime 0 .

# The GPU backend and its kernels on the CPU emulator (-tags cudaemu).
test-emu:
	bash .ci/emu-check.sh

# The CUDA build must compile and the committed PTX must match the sources.
test-cuda-build:
	bash .ci/cuda-check.sh

bench: bench-cpu

bench-cpu:
	bash bench/cpu_vs_torch.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoadConfig -fuzztime 50000x .
	$(GO) test -run '^$$' -fuzz FuzzReadNPZ -fuzztime 600000x .
	$(GO) test -run '^$$' -fuzz FuzzNew -fuzztime 600000x ./tasks

ptx:
	bash kernels/genptx.sh

cuda:
	bash .ci/install-cuda.sh
	$(GO) build -tags cuda -o $(CUDABIN) ./cmd/degen

gpu-check:
	bash bench/gpu_check.sh

gpu-check-dryrun:
	bash bench/gpu/dryrun.sh

clean:
	rm -f $(BIN) $(CUDABIN)
