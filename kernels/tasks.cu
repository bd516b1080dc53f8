// tasks.cu: the training and evaluation trials of package tasks, generated on
// the device from the same counter-based generator (tasks/rng.go), so that a
// training step needs nothing from the host but each slot's stream key.
//
// Every kernel mirrors one Go Fill and takes the same parameters:
//
//	keys  (N)           stream keys: tasks.NewStream(key).Key() of each slot's tasks.Key
//	knobs (k)           the task's knob values, in the order gpu/taskgen.go lists them
//	ood                 1 for the out-of-distribution variant (only delayed reads it:
//	                    the others take their longer T from the T argument)
//	N, B, T, I, O       batch slots, trials, steps, inputs, outputs (tasks.Batch)
//	x    (N, T, B, I)   inputs   (=)
//	y    (N, T, B, O)   targets  (=)
//	mask (N, T, B, O)   1 where the output is scored (=)
//
// Launch: grid (ceil(B / TASK_THREADS), N), block TASK_THREADS; one thread per
// (slot, trial), which writes every element of its trial, zeros included:
// the buffers are reused from step to step and never cleared.
//
// Rounding: Go rounds every float64 operation to float64 and never fuses a
// product into a sum in these functions (tasks wraps such products in
// float64()); nvcc fuses a*b+c into an FMA by default, so every product or
// quotient that meets a sum is written __dmul_rn/__ddiv_rn/__dadd_rn/__dsub_rn.
// With that, the words, uniforms, Uniform and Intn are bit-exact, and so are
// flipflop and delayed. sine calls sin and pathint sincos: CUDA's libdevice and
// Go's math package may differ in the last bit of a double, so a few of their
// float32 values may differ by one float32 rounding step (and a pathint
// reflection could in principle flip where a position lands exactly on a wall);
// gpu/taskgen_test.go measures both against tasks.Generate.

#define TASK_THREADS 128  // threads per block of every task kernel (gpu/taskgen.go: taskThreads)

// 2 pi rounded to double, as Go rounds the constant 2*math.Pi (doubling is exact).
#define TASK_TWO_PI (2.0 * 3.14159265358979323846)

// taskMix64 is tasks.mix64, the SplitMix64 finaliser (arithmetic modulo 2^64).
__device__ __forceinline__ unsigned long long taskMix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// taskAbsorb is tasks.absorb: mix64((h ^ v) + golden).
__device__ __forceinline__ unsigned long long taskAbsorb(unsigned long long h, unsigned long long v) {
    return taskMix64((h ^ v) + 0x9e3779b97f4a7c15ULL);
}

// taskCounters is tasks.counters: uint32(hi) << 32 | uint32(lo).
__device__ __forceinline__ unsigned long long taskCounters(int hi, int lo) {
    return ((unsigned long long)(unsigned)hi << 32) | (unsigned long long)(unsigned)lo;
}

// taskCell is tasks.Stream.At: the cell word absorb(key, trial << 32 | t).
__device__ __forceinline__ unsigned long long taskCell(unsigned long long key, int trial, int t) {
    return taskAbsorb(key, taskCounters(trial, t));
}

// taskFloat64 is tasks.Cell.Float64: (w >> 11) * 2^-53 of the word
// absorb(cell, channel << 32 | draw); both steps are exact.
__device__ __forceinline__ double taskFloat64(unsigned long long cell, int channel, int draw) {
    unsigned long long w = taskAbsorb(cell, taskCounters(channel, draw));
    return __dmul_rn((double)(w >> 11), 1.0 / 9007199254740992.0);
}

// taskUniform is tasks.Cell.Uniform: lo + round((hi - lo) * Float64), unfused.
__device__ __forceinline__ double taskUniform(unsigned long long cell, double lo, double hi, int channel, int draw) {
    return __dadd_rn(lo, __dmul_rn(__dsub_rn(hi, lo), taskFloat64(cell, channel, draw)));
}

// taskIntn is tasks.Stream.Intn: min(floor(Float64 * n), n - 1).
__device__ __forceinline__ int taskIntn(unsigned long long cell, int n, int channel, int draw) {
    int k = (int)__dmul_rn(taskFloat64(cell, channel, draw), (double)n);
    return k < n - 1 ? k : n - 1;
}

#define TASK_PARAMS                                                                                        \
    const unsigned long long *keys, const double *knobs, int ood, int N, int B, int T, int I, int O, float *x, \
        float *y, float *mask

// task_flipflop mirrors tasks.FlipFlop.Fill. knobs: p, hold k. I = O = bits.
// Slot j = t / k: channel c pulses in slot j when j = 0 or
// Float64(trial, j, c, 0) < p, with sign -1 when Float64(trial, j, c, 1) >= 1/2,
// else +1; the pulse fills the slot's k steps, y holds the last pulse, and
// the first k - 1 steps of a pulse are not scored.
extern "C" __global__ void __launch_bounds__(TASK_THREADS) task_flipflop(TASK_PARAMS) {
    int trial = blockIdx.x * blockDim.x + threadIdx.x, n = blockIdx.y;
    if (trial >= B || n >= N) return;
    unsigned long long key = keys[n];
    double p = knobs[0];
    int hold = (int)knobs[1];
    float* xs = x + (size_t)n * T * B * I;
    float* ys = y + (size_t)n * T * B * O;
    float* ms = mask + (size_t)n * T * B * O;
    // Channels are independent, so each runs its own pass over t (the cell
    // word is recomputed per channel instead of holding I signs).
    for (int c = 0; c < I; c++) {
        float held = 0.f;
        bool pulse = false;
        for (int t = 0; t < T; t++) {
            int slot = t / hold, within = t - slot * hold;
            if (within == 0) {
                unsigned long long cell = taskCell(key, trial, slot);
                pulse = slot == 0 || taskFloat64(cell, c, 0) < p;
                if (pulse) held = taskFloat64(cell, c, 1) >= 0.5 ? -1.f : 1.f;
            }
            size_t r = (size_t)t * B + trial;
            xs[r * I + c] = pulse ? held : 0.f;
            ys[r * O + c] = held;
            ms[r * O + c] = pulse && within < hold - 1 ? 0.f : 1.f;
        }
    }
}

// task_sine mirrors tasks.Sine.Fill. knobs: freqs K, fmin, fmax, dt. I = O = channels.
// Channel c's frequency index is Intn(K, trial, 0, c, 0), its frequency
// f = fmin + k (fmax - fmin) / (K - 1) (tasks.Sine.Frequency); x = f / fmax and
// y_t = sin(((2 pi f) dt) t), rounded in Go's order.
extern "C" __global__ void __launch_bounds__(TASK_THREADS) task_sine(TASK_PARAMS) {
    int trial = blockIdx.x * blockDim.x + threadIdx.x, n = blockIdx.y;
    if (trial >= B || n >= N) return;
    unsigned long long cell0 = taskCell(keys[n], trial, 0);
    int freqs = (int)knobs[0];
    double fLo = knobs[1], fHi = knobs[2], dt = knobs[3];
    float* xs = x + (size_t)n * T * B * I;
    float* ys = y + (size_t)n * T * B * O;
    float* ms = mask + (size_t)n * T * B * O;
    for (int c = 0; c < I; c++) {
        int k = taskIntn(cell0, freqs, c, 0);
        double f = fLo;
        if (freqs != 1) f = __dadd_rn(fLo, __ddiv_rn(__dmul_rn((double)k, __dsub_rn(fHi, fLo)), (double)(freqs - 1)));
        float in = __double2float_rn(__ddiv_rn(f, fHi));
        double w = __dmul_rn(__dmul_rn(TASK_TWO_PI, f), dt);
        for (int t = 0; t < T; t++) {
            size_t r = (size_t)t * B + trial;
            xs[r * I + c] = in;
            ys[r * O + c] = __double2float_rn(sin(__dmul_rn(w, (double)t)));
            ms[r * O + c] = 1.f;
        }
    }
}

// task_delayed mirrors tasks.Delayed.Fill. knobs: delay_min, delay_max, aux,
// pulse, lead, fmin, fmax, gap. I = channels, O = channels (2 channels with aux:
// output c is channel c's decision, I + c its auxiliary).
// f1 = Uniform(fmin, fmax, trial, 0, c, 0), f2 uniform outside (f1 - gap, f1 + gap)
// from u = Uniform(0, below + above, trial, 0, c, 1) (tasks.Delayed.second),
// delay = lo + Intn(hi - lo + 1,
// trial, 0, c, 2) with (lo, hi) the delay range, doubled for OOD; pulses at
// [lead, lead + pulse) and [t2, t2 + pulse), t2 = lead + pulse + delay;
// scored from t2 + pulse on: sign(f2 - f1) and |f2 - f1| / fmax.
extern "C" __global__ void __launch_bounds__(TASK_THREADS) task_delayed(TASK_PARAMS) {
    int trial = blockIdx.x * blockDim.x + threadIdx.x, n = blockIdx.y;
    if (trial >= B || n >= N) return;
    unsigned long long cell0 = taskCell(keys[n], trial, 0);
    int dmin = (int)knobs[0], dmax = (int)knobs[1], aux = (int)knobs[2], pulse = (int)knobs[3], lead = (int)knobs[4];
    double fLo = knobs[5], fHi = knobs[6], gap = knobs[7];
    int lo = ood ? 2 * dmin : dmin, hi = ood ? 2 * dmax : dmax;
    float* xs = x + (size_t)n * T * B * I;
    float* ys = y + (size_t)n * T * B * O;
    float* ms = mask + (size_t)n * T * B * O;
    for (int c = 0; c < I; c++) {
        double f1 = taskUniform(cell0, fLo, fHi, c, 0);
        double below = fmax(0.0, __dsub_rn(__dsub_rn(f1, gap), fLo));
        double above = fmax(0.0, __dsub_rn(__dsub_rn(fHi, f1), gap));
        double u = taskUniform(cell0, 0.0, __dadd_rn(below, above), c, 1);
        double f2 = u < below ? __dadd_rn(fLo, u) : __dadd_rn(__dadd_rn(f1, gap), __dsub_rn(u, below));
        int t2 = lead + pulse + lo + taskIntn(cell0, hi - lo + 1, c, 2);
        float in1 = __double2float_rn(__ddiv_rn(f1, fHi)), in2 = __double2float_rn(__ddiv_rn(f2, fHi));
        float sign = f2 > f1 ? 1.f : (f2 < f1 ? -1.f : 0.f);
        float diff = __double2float_rn(__ddiv_rn(__dsub_rn(f1 > f2 ? f1 : f2, f1 < f2 ? f1 : f2), fHi));
        for (int t = 0; t < T; t++) {
            size_t r = (size_t)t * B + trial;
            float in = 0.f;
            if (t >= lead && t < lead + pulse) in = in1;
            if (t >= t2 && t < t2 + pulse) in = in2;
            bool scored = t >= t2 + pulse;
            xs[r * I + c] = in;
            ys[r * O + c] = scored ? sign : 0.f;
            ms[r * O + c] = scored ? 1.f : 0.f;
            if (aux) {
                ys[r * O + I + c] = scored ? diff : 0.f;
                ms[r * O + I + c] = scored ? 1.f : 0.f;
            }
        }
    }
}

// task_pathint mirrors tasks.PathInt.Fill. knobs: arena A, speed_min, speed_max,
// velocity. O = dims d (2 or 3); I = d velocity inputs s_i / vmax + d start
// cues, or (velocity 0) 2(d - 1) heading inputs + speed + d start cues.
// Start p_0,i = Uniform(-A, A, trial, 0, i, 0), given at t = 0; at t >= 1
// theta = Uniform(0, 2 pi, trial, t, 0, 0), sin psi = Uniform(-1, 1, trial, t, 1, 0)
// (3D), v = Uniform(vmin, vmax, trial, t, 2, 0), step s = v u reflected at a wall
// it would cross (the heading input carrying u_i's sign negated), p_t = p_{t-1} + s.
extern "C" __global__ void __launch_bounds__(TASK_THREADS) task_pathint(TASK_PARAMS) {
    int trial = blockIdx.x * blockDim.x + threadIdx.x, n = blockIdx.y;
    if (trial >= B || n >= N) return;
    unsigned long long key = keys[n];
    double a = knobs[0], vmin = knobs[1], vmax = knobs[2];
    bool velocity = knobs[3] == 1.0;
    int dims = O, nm = I - O;  // nm motion inputs (velocity, or heading and speed), then dims start cues
    float* xs = x + (size_t)n * T * B * I;
    float* ys = y + (size_t)n * T * B * O;
    float* ms = mask + (size_t)n * T * B * O;
    double pos[3] = {0, 0, 0};
    unsigned long long cell = taskCell(key, trial, 0);
    float* xr = xs + (size_t)trial * I;  // step 0: the start cue, motion inputs 0
    for (int j = 0; j < nm; j++) xr[j] = 0.f;
    for (int i = 0; i < dims; i++) {
        pos[i] = taskUniform(cell, -a, a, i, 0);
        float p = __double2float_rn(__ddiv_rn(pos[i], a));
        xr[nm + i] = p;
        ys[(size_t)trial * O + i] = p;
        ms[(size_t)trial * O + i] = 1.f;
    }
    for (int t = 1; t < T; t++) {
        cell = taskCell(key, trial, t);
        double theta = taskUniform(cell, 0.0, TASK_TWO_PI, 0, 0);
        double v = taskUniform(cell, vmin, vmax, 2, 0);
        double heading[4];  // cos theta, sin theta; 3D: cos phi, sin phi, cos psi, sin psi
        double step[3];
        sincos(theta, &heading[1], &heading[0]);
        if (dims == 2) {
            step[0] = __dmul_rn(v, heading[0]);
            step[1] = __dmul_rn(v, heading[1]);
            step[2] = 0;
            heading[2] = heading[3] = 0;
        } else {
            double sinPsi = taskUniform(cell, -1.0, 1.0, 1, 0);
            double cosPsi = __dsqrt_rn(__dsub_rn(1.0, __dmul_rn(sinPsi, sinPsi)));
            heading[2] = cosPsi;
            heading[3] = sinPsi;
            step[0] = __dmul_rn(__dmul_rn(v, cosPsi), heading[0]);
            step[1] = __dmul_rn(__dmul_rn(v, cosPsi), heading[1]);
            step[2] = __dmul_rn(v, sinPsi);
        }
#pragma unroll
        for (int i = 0; i < 3; i++) {
            if (i >= dims) break;
            double next = __dadd_rn(pos[i], step[i]);
            if (next > a || next < -a) {
                step[i] = -step[i];
                int h = i == 2 ? 3 : i;  // the heading input that carries u_i's sign
                heading[h] = -heading[h];
            }
            pos[i] = __dadd_rn(pos[i], step[i]);
        }
        size_t r = (size_t)t * B + trial;
        xr = xs + r * I;
        if (velocity) {
#pragma unroll
            for (int i = 0; i < 3; i++)
                if (i < dims) xr[i] = __double2float_rn(__ddiv_rn(step[i], vmax));
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++)
                if (j < nm - 1) xr[j] = __double2float_rn(heading[j]);
            xr[nm - 1] = __double2float_rn(__ddiv_rn(v, vmax));
        }
        for (int i = 0; i < dims; i++) {
            xr[nm + i] = 0.f;
            ys[r * O + i] = __double2float_rn(__ddiv_rn(pos[i], a));
            ms[r * O + i] = 1.f;
        }
    }
}
