;; scrypt's ROMix (RFC 7914) with WebAssembly SIMD, for one lane at a time (see scryptRomixWasm.ts).
;;
;; Memory (imported, sized by the caller), with bs = 128·r bytes per block and h = 0, 1 or 2 (1/2^h of V kept):
;;   [0, bs)                  X: the lane, in and out
;;   [bs, 2·bs)               Y: BlockMix's output, swapped with X
;;   [2·bs, 4·bs)             T0, T1: blocks of V that are not kept, taken in turn
;;   [4·bs, (N/2^h + 4)·bs)   V: the blocks V_i of ROMix with i a multiple of 2^h
;; With h > 0 only every 2^h-th V_i is kept, and another one is computed again from the one kept before it
;; (up to 2^h - 1 BlockMix) when Integerify picks it: less memory for more time.
;; Each 64-byte Salsa20 block is kept with its 16 words in diagonal order (word i holds scrypt's word
;; 5·i mod 16: 0 5 10 15 | 4 9 14 3 | 8 13 2 7 | 12 1 6 11), so that every quarter-round step of Salsa20/8 is
;; one operation on four words at once; the caller reorders the lane in and out. The word Integerify reads
;; (word 0 of the last block) stays in its place.
(module
  (import "env" "memory" (memory 1))

  ;; BlockMix(Salsa20/8) of the block at $in into $out (not overlapping): Y_i = Salsa(Y_(i-1) ^ B_i), with
  ;; Y_(-1) = B_(2r-1); the even Y_i to the first half of $out, the odd ones to the second.
  (func $blockmix (param $in i32) (param $out i32) (param $r i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $t v128)
    (local $i i32) (local $n i32) (local $src i32) (local $dst i32) (local $k i32)
    (local.set $n (i32.shl (local.get $r) (i32.const 1)))
    (local.set $src (i32.add (local.get $in) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 6))))
    (local.set $x0 (v128.load offset=0 (local.get $src)))
    (local.set $x1 (v128.load offset=16 (local.get $src)))
    (local.set $x2 (v128.load offset=32 (local.get $src)))
    (local.set $x3 (v128.load offset=48 (local.get $src)))
    (loop $blocks
      (local.set $src (i32.add (local.get $in) (i32.shl (local.get $i) (i32.const 6))))
      (local.set $x0 (v128.xor (local.get $x0) (v128.load offset=0 (local.get $src))))
      (local.set $x1 (v128.xor (local.get $x1) (v128.load offset=16 (local.get $src))))
      (local.set $x2 (v128.xor (local.get $x2) (v128.load offset=32 (local.get $src))))
      (local.set $x3 (v128.xor (local.get $x3) (v128.load offset=48 (local.get $src))))
      (local.set $y0 (local.get $x0))
      (local.set $y1 (local.get $x1))
      (local.set $y2 (local.get $x2))
      (local.set $y3 (local.get $x3))
      ;; Salsa20/8: four double rounds
      (local.set $k (i32.const 4))
      (loop $rounds
        ;; columns
        (local.set $t (i32x4.add (local.get $x0) (local.get $x3)))
        (local.set $x1 (v128.xor (local.get $x1) (v128.or (i32x4.shl (local.get $t) (i32.const 7)) (i32x4.shr_u (local.get $t) (i32.const 25)))))
        (local.set $t (i32x4.add (local.get $x1) (local.get $x0)))
        (local.set $x2 (v128.xor (local.get $x2) (v128.or (i32x4.shl (local.get $t) (i32.const 9)) (i32x4.shr_u (local.get $t) (i32.const 23)))))
        (local.set $t (i32x4.add (local.get $x2) (local.get $x1)))
        (local.set $x3 (v128.xor (local.get $x3) (v128.or (i32x4.shl (local.get $t) (i32.const 13)) (i32x4.shr_u (local.get $t) (i32.const 19)))))
        (local.set $t (i32x4.add (local.get $x3) (local.get $x2)))
        (local.set $x0 (v128.xor (local.get $x0) (v128.or (i32x4.shl (local.get $t) (i32.const 18)) (i32x4.shr_u (local.get $t) (i32.const 14)))))
        ;; the rows into the same lanes
        (local.set $x1 (i8x16.shuffle 12 13 14 15 0 1 2 3 4 5 6 7 8 9 10 11 (local.get $x1) (local.get $x1)))
        (local.set $x2 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x2) (local.get $x2)))
        (local.set $x3 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $x3) (local.get $x3)))
        ;; rows
        (local.set $t (i32x4.add (local.get $x0) (local.get $x1)))
        (local.set $x3 (v128.xor (local.get $x3) (v128.or (i32x4.shl (local.get $t) (i32.const 7)) (i32x4.shr_u (local.get $t) (i32.const 25)))))
        (local.set $t (i32x4.add (local.get $x3) (local.get $x0)))
        (local.set $x2 (v128.xor (local.get $x2) (v128.or (i32x4.shl (local.get $t) (i32.const 9)) (i32x4.shr_u (local.get $t) (i32.const 23)))))
        (local.set $t (i32x4.add (local.get $x2) (local.get $x3)))
        (local.set $x1 (v128.xor (local.get $x1) (v128.or (i32x4.shl (local.get $t) (i32.const 13)) (i32x4.shr_u (local.get $t) (i32.const 19)))))
        (local.set $t (i32x4.add (local.get $x1) (local.get $x2)))
        (local.set $x0 (v128.xor (local.get $x0) (v128.or (i32x4.shl (local.get $t) (i32.const 18)) (i32x4.shr_u (local.get $t) (i32.const 14)))))
        ;; back to the columns
        (local.set $x1 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $x1) (local.get $x1)))
        (local.set $x2 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x2) (local.get $x2)))
        (local.set $x3 (i8x16.shuffle 12 13 14 15 0 1 2 3 4 5 6 7 8 9 10 11 (local.get $x3) (local.get $x3)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br_if $rounds (local.get $k))
      )
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $y0)))
      (local.set $x1 (i32x4.add (local.get $x1) (local.get $y1)))
      (local.set $x2 (i32x4.add (local.get $x2) (local.get $y2)))
      (local.set $x3 (i32x4.add (local.get $x3) (local.get $y3)))
      ;; $out + 64·(i/2), or + 64·(r + i/2) for an odd i
      (local.set $dst (i32.add (local.get $out) (i32.shl
        (i32.add (i32.shr_u (local.get $i) (i32.const 1)) (i32.mul (i32.and (local.get $i) (i32.const 1)) (local.get $r)))
        (i32.const 6))))
      (v128.store offset=0 (local.get $dst) (local.get $x0))
      (v128.store offset=16 (local.get $dst) (local.get $x1))
      (v128.store offset=32 (local.get $dst) (local.get $x2))
      (v128.store offset=48 (local.get $dst) (local.get $x3))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $blocks (i32.lt_u (local.get $i) (local.get $n)))
    )
  )

  ;; ROMix(N, r) of the lane at 0 (N a power of two > 1, r >= 1, h 0-2, memory for (N/2^h + 4)·128·r bytes).
  (func (export "romix") (param $N i32) (param $r i32) (param $h i32)
    (local $bs i32) (local $x i32) (local $y i32) (local $t0 i32) (local $t1 i32) (local $v i32) (local $p i32)
    (local $q i32) (local $i i32) (local $j i32) (local $k i32) (local $m i32) (local $mask i32) (local $s i32)
    (local $end i32)
    (local.set $bs (i32.shl (local.get $r) (i32.const 7)))
    (local.set $y (local.get $bs))
    (local.set $t0 (i32.shl (local.get $bs) (i32.const 1)))
    (local.set $t1 (i32.mul (local.get $bs) (i32.const 3)))
    (local.set $v (i32.shl (local.get $bs) (i32.const 2)))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $h)) (i32.const 1)))
    ;; V_0 = X, V_i = BlockMix(V_(i-1)) (into its place in V, or if it is not kept into T0 for an odd i, T1 for
    ;; an even one: never the block it is made from), X = BlockMix(V_(N-1))
    (memory.copy (local.get $v) (local.get $x) (local.get $bs))
    (local.set $p (local.get $v))
    (local.set $i (i32.const 1))
    (loop $fill
      (local.set $q (select
        (select (local.get $t0) (local.get $t1) (i32.and (local.get $i) (i32.const 1)))
        (i32.add (local.get $v) (i32.mul (local.get $bs) (i32.shr_u (local.get $i) (local.get $h))))
        (i32.and (local.get $i) (local.get $mask))))
      (call $blockmix (local.get $p) (local.get $q) (local.get $r))
      (local.set $p (local.get $q))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (local.get $N)))
    )
    (call $blockmix (local.get $p) (local.get $x) (local.get $r))
    ;; N times: X ^= V_j with j = Integerify(X) mod N, then Y = BlockMix(X) and swap X and Y
    (local.set $i (i32.const 0))
    (loop $mix
      (local.set $j (i32.and (i32.load (i32.add (local.get $x) (i32.sub (local.get $bs) (i32.const 64)))) (i32.sub (local.get $N) (i32.const 1))))
      (local.set $q (i32.add (local.get $v) (i32.mul (local.get $bs) (i32.shr_u (local.get $j) (local.get $h)))))
      ;; a V_j not kept: BlockMix from the one kept before it, through T0 and T1 in turn
      (local.set $m (i32.and (local.get $j) (local.get $mask)))
      (local.set $k (i32.const 1))
      (block $kept
        (loop $again
          (br_if $kept (i32.gt_u (local.get $k) (local.get $m)))
          (local.set $p (select (local.get $t0) (local.get $t1) (i32.and (local.get $k) (i32.const 1))))
          (call $blockmix (local.get $q) (local.get $p) (local.get $r))
          (local.set $q (local.get $p))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $again)
        )
      )
      (local.set $p (local.get $x))
      (local.set $end (i32.add (local.get $x) (local.get $bs)))
      (loop $xor
        (v128.store (local.get $p) (v128.xor (v128.load (local.get $p)) (v128.load (local.get $q))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br_if $xor (i32.lt_u (local.get $p) (local.get $end)))
      )
      (call $blockmix (local.get $x) (local.get $y) (local.get $r))
      (local.set $s (local.get $x))
      (local.set $x (local.get $y))
      (local.set $y (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $mix (i32.lt_u (local.get $i) (local.get $N)))
    )
    ;; N is even: X is back at 0
  )
)
