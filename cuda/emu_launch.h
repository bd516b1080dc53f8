// emu_launch.h lists the kernels the emulator can launch (cuda/emu.cc), with
// each one's parameter types read from its C++ declaration, and unpacks a
// launch's argument slots into a call. A test (cuda/emu_test.go) checks the
// list against kernels.Signatures.
#pragma once

#include <cstring>
#include <utility>

template <typename T>
struct EmuParam;
template <typename T>
struct EmuParam<T*> {
    static constexpr char letter = 'P';
};
template <>
struct EmuParam<int> {
    static constexpr char letter = 'I';
};
template <>
struct EmuParam<float> {
    static constexpr char letter = 'F';
};
template <>
struct EmuParam<unsigned long long> {
    static constexpr char letter = 'U';
};

template <typename F>
struct EmuTraits;
template <typename... A>
struct EmuTraits<void (*)(A...)> {
    static constexpr char signature[sizeof...(A) + 1] = {EmuParam<A>::letter..., 0};
    // call reads each parameter from the start of its 8-byte slot, as the
    // driver does with kernelParams.
    template <void (*F)(A...), std::size_t... I>
    static void unpack(void** a, std::index_sequence<I...>) {
        F(*static_cast<A*>(a[I])...);
    }
    template <void (*F)(A...)>
    static void call(void** a) {
        unpack<F>(a, std::index_sequence_for<A...>{});
    }
};

struct EmuKernel {
    const char* name;
    const char* signature;
    void (*call)(void**);
};

#define EMU_KERNEL(f) {#f, EmuTraits<decltype(&f)>::signature, &EmuTraits<decltype(&f)>::template call<&f>}

static const EmuKernel emuKernels[] = {
    EMU_KERNEL(rnn_forward_r8),         EMU_KERNEL(rnn_forward_r4),         EMU_KERNEL(rnn_forward_mma_m1n2),
    EMU_KERNEL(rnn_forward_mma_m1n4),   EMU_KERNEL(rnn_forward_mma_m1n8),   EMU_KERNEL(rnn_forward_mma_m2n4),
    EMU_KERNEL(rnn_forward_mma_m2n8),   EMU_KERNEL(rnn_backward_r8),        EMU_KERNEL(rnn_backward_r4),
    EMU_KERNEL(rnn_backward_mma_m1n2),  EMU_KERNEL(rnn_backward_mma_m1n4),  EMU_KERNEL(rnn_backward_mma_m1n8),
    EMU_KERNEL(rnn_backward_mma_m2n4),  EMU_KERNEL(rnn_backward_mma_m2n8),  EMU_KERNEL(rnn_backward_fused_r8),
    EMU_KERNEL(rnn_backward_fused_r4),  EMU_KERNEL(rnn_grad_w4_t128),       EMU_KERNEL(rnn_grad_w4_t64),
    EMU_KERNEL(rnn_grad_w16),           EMU_KERNEL(rnn_grad_mma_t128),      EMU_KERNEL(rnn_grad_mma_t64),
    EMU_KERNEL(rnn_adam),               EMU_KERNEL(mma_selftest),
    EMU_KERNEL(task_flipflop),          EMU_KERNEL(task_sine),              EMU_KERNEL(task_delayed),
    EMU_KERNEL(task_pathint),
    EMU_KERNEL(rnn_forward_r8_g2),      EMU_KERNEL(rnn_forward_r4_g2),      EMU_KERNEL(rnn_backward_r8_g2),
    EMU_KERNEL(rnn_backward_r4_g2),     EMU_KERNEL(probe),
    EMU_KERNEL(probe_wgmma),            EMU_KERNEL(wgmma_selftest),     EMU_KERNEL(wgmma_chain_selftest),     EMU_KERNEL(rnn_grad_wgmma_t128),
    EMU_KERNEL(rnn_grad_wgmma_t64),     EMU_KERNEL(rnn_forward_wgmma_h128), EMU_KERNEL(rnn_forward_wgmma_h64),
    EMU_KERNEL(rnn_forward_wgmma_h128_rate), EMU_KERNEL(rnn_forward_wgmma_h64_rate),
    EMU_KERNEL(rnn_backward_wgmma_h128), EMU_KERNEL(rnn_backward_wgmma_h64),
    EMU_KERNEL(rnn_backward_wgmma_h128_rate), EMU_KERNEL(rnn_backward_wgmma_h64_rate),
};

inline const EmuKernel* emuFind(const char* name) {
    for (const EmuKernel& k : emuKernels)
        if (std::strcmp(k.name, name) == 0) return &k;
    return nullptr;
}
