// Workspace carving shared by enqueue(), workspaceSize() and the C API. Every region starts on a
// 256-byte boundary; the per-image error keys come first (offset 0) so readErrorInfo needs no shape.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/engine.h"

namespace fcos4j {

constexpr size_t kWorkspaceAlign = 256;

struct Layout {
  size_t errKeys;      // u64 [N]
  size_t counts;       // u32 [N*L] candidates per (image, level)
  size_t cand;         // u64 [N][sum_l C*H_l*W_l] candidate rank keys
  size_t candImage;    // elements per image in cand
  size_t candLevel[kMaxLevels];
  size_t sel;          // u64 [N][sum_l pow2(min(k, C*H_l*W_l))] selected keys, sorted per level
  size_t selImage;
  size_t selLevel[kMaxLevels];
  int slotCount[kMaxLevels];  // min(k, C*H_l*W_l): the level's concatenation slots
  int slotBase[kMaxLevels];
  int S;               // slots per image
  int Sp;              // pow2 >= S (sort width)
  int Wd;              // 64-bit words per mask row = ceil(S / 64)
  size_t slotBox, slotScore, slotClass;        // f32 [N][S][4], f32 [N][S], i32 [N][S]
  size_t nmsKeys;                              // u64 [N][Sp]
  size_t sortedBox, sortedScore, sortedClass;  // in NMS order
  size_t validCount;                           // i32 [N]
  size_t mask;                                 // u64 [N][S][Wd]
  size_t kept;                                 // i32 [N][K]
  size_t total;
};

/** Layout for a validated (params, shape); monotone in every dimension of shape. */
Layout computeLayout(const Params& params, const Shape& shape);

}  // namespace fcos4j
