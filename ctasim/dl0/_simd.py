"""Explicit 8-lane SIMD helpers for the R1 -> DL1 kernels, as numba intrinsics emitting LLVM vector
IR (numba's loops over a few dozen samples do not vectorise: fp max reductions are never
vectorised and short loops of runtime length pay alias checks and remainders).

All helpers work on whole blocks of 8 elements of C-contiguous arrays (unaligned loads); callers
handle any tail with scalar code. Results are bit-identical to the scalar loops they replace (same
operations in the same order per element; max and argmax assume NaN-free data).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8
_F32 = ir.FloatType()
_I32 = ir.IntType(32)
_I8 = ir.IntType(8)
_VF = ir.VectorType(_F32, LANES)


def _block_ptr(context, builder, arrty, arr, start, vecty):
    """Pointer (as ``vecty*``) to element ``start`` of a 1D array."""
    data = context.make_array(arrty)(context, builder, arr).data
    return builder.bitcast(builder.gep(data, [start]), vecty.as_pointer())


def _load(builder, ptr, b):
    return builder.load(builder.gep(ptr, [b]), align=1)


def _splat(builder, value, vecty):
    vec = ir.Constant(vecty, ir.Undefined)
    vec = builder.insert_element(vec, value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(vec, ir.Constant(vecty, ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))


def _ivec(arrty):
    return ir.VectorType(ir.IntType(arrty.dtype.bitwidth), LANES)


def _first_max_index(builder, ptr, nb_, vec):
    """Index of the first element of blocks ``ptr[:nb_]`` equal to the largest lane of ``vec``
    (the lane-wise maximum of those blocks)."""
    intp = nb_.type
    zero = ir.Constant(intp, 0)
    one = ir.Constant(intp, 1)
    half = LANES // 2
    while half:
        perm = [(lane + half) % LANES for lane in range(LANES)]
        other = builder.shuffle_vector(vec, vec, ir.Constant(ir.VectorType(_I32, LANES), perm))
        vec = builder.select(builder.fcmp_ordered(">", other, vec), other, vec)
        half //= 2
    top_v = builder.shuffle_vector(vec, vec, ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))
    # first lane equal to the maximum: blocks scanned from the last to the first
    result = cgutils.alloca_once_value(builder, zero)
    cttz = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(_I8, [_I8, ir.IntType(1)]), "llvm.cttz.i8")
    last = builder.sub(nb_, one)
    with cgutils.for_range(builder, nb_, intp=intp) as loop:
        blk = builder.sub(last, loop.index)
        eq = builder.fcmp_ordered("==", _load(builder, ptr, blk), top_v)
        mask = builder.bitcast(eq, _I8)
        lane = builder.call(cttz, [mask, ir.Constant(ir.IntType(1), 0)])
        idx = builder.add(builder.mul(blk, ir.Constant(intp, LANES)), builder.zext(lane, intp))
        hit = builder.icmp_unsigned("!=", mask, ir.Constant(_I8, 0))
        builder.store(builder.select(hit, idx, builder.load(result)), result)
    return builder.load(result)


@intrinsic
def block_argmax(typingctx, arr, nblocks):
    """Index of the first maximum of ``arr[:8 * nblocks]`` (float32, NaN-free; nblocks >= 1)."""
    sig = types.intp(arr, types.intp)

    def codegen(context, builder, sig, args):
        arrty, _ = sig.args
        arr_, nb_ = args
        intp = nb_.type
        zero = ir.Constant(intp, 0)
        one = ir.Constant(intp, 1)
        ptr = _block_ptr(context, builder, arrty, arr_, zero, _VF)
        best = cgutils.alloca_once_value(builder, _load(builder, ptr, zero))
        with cgutils.for_range_slice(builder, one, nb_, ir.Constant(intp, 1), intp=intp) as (b, _):
            v = _load(builder, ptr, b)
            cur = builder.load(best)
            builder.store(builder.select(builder.fcmp_ordered(">", v, cur), v, cur), best)
        return _first_max_index(builder, ptr, nb_, builder.load(best))

    return sig, codegen


@intrinsic
def neighbor_argmax(typingctx, rows, own, weight, indices, j0, j1, nblocks, nfull, out):
    """out[k] = own[k] * weight + rows[indices[j0], k] + ... + rows[indices[j1 - 1], k] for the
    first 8 * nblocks elements, added in that order (float32 ``rows`` C-contiguous 2D; each block
    is accumulated in a register over the neighbours); returns the index of the first maximum of
    ``out[:8 * nfull]`` (nfull <= nblocks; 0 when nfull is 0)."""
    sig = types.intp(rows, own, types.float32, indices, types.intp, types.intp, types.intp,
                     types.intp, out)

    def codegen(context, builder, sig, args):
        rowsty, ownty, _, idxty, _, _, _, _, outty = sig.args
        rows_, own_, w_, idx_, j0_, j1_, nb_, nfull_, out_ = args
        intp = nb_.type
        zero = ir.Constant(intp, 0)
        rows_arr = context.make_array(rowsty)(context, builder, rows_)
        ncols = cgutils.unpack_tuple(builder, rows_arr.shape)[1]
        base = rows_arr.data
        idx_data = context.make_array(idxty)(context, builder, idx_).data
        op = _block_ptr(context, builder, ownty, own_, zero, _VF)
        outp = _block_ptr(context, builder, outty, out_, zero, _VF)
        w_v = _splat(builder, w_, _VF)
        one = ir.Constant(intp, 1)
        vmax = cgutils.alloca_once_value(builder, ir.Constant(_VF, [float("-inf")] * LANES))

        def blocks(b0, count):
            # ``count`` consecutive blocks from b0, one register accumulator each
            accs = [cgutils.alloca_once(builder, _VF) for _ in range(count)]
            bs = [builder.add(b0, ir.Constant(intp, i)) for i in range(count)]
            for acc, b in zip(accs, bs):
                builder.store(builder.fmul(_load(builder, op, b), w_v), acc)
            with cgutils.for_range_slice(builder, j0_, j1_, one, intp=intp) as (j, _):
                q = builder.sext(builder.load(builder.gep(idx_data, [j])), intp)
                row = builder.bitcast(builder.gep(base, [builder.mul(q, ncols)]), _VF.as_pointer())
                for acc, b in zip(accs, bs):
                    builder.store(builder.fadd(builder.load(acc), _load(builder, row, b)), acc)
            for acc, b in zip(accs, bs):
                v = builder.load(acc)
                builder.store(v, builder.gep(outp, [b]), align=1)
                cur = builder.load(vmax)
                take = builder.and_(builder.fcmp_ordered(">", v, cur),
                                    _splat(builder, builder.icmp_signed("<", b, nfull_),
                                           ir.VectorType(ir.IntType(1), LANES)))
                builder.store(builder.select(take, v, cur), vmax)

        group = 4
        n_groups = builder.udiv(nb_, ir.Constant(intp, group))
        with cgutils.for_range(builder, n_groups, intp=intp) as g:
            blocks(builder.mul(g.index, ir.Constant(intp, group)), group)
        done = builder.mul(n_groups, ir.Constant(intp, group))
        with cgutils.for_range_slice(builder, done, nb_, one, intp=intp) as (b, _):
            blocks(b, 1)
        return _first_max_index(builder, outp, nfull_, builder.load(vmax))

    return sig, codegen


@intrinsic
def window_sums(typingctx, row, start, count):
    """(sum v, sum max(v, 0) * k, sum max(v, 0)) in float64 over v = row[k], k in [start, start +
    count) (float32 row). Whole blocks of 8 are read from ``start``: up to 7 elements past the
    window must be readable (they are masked out). Float64 sums of float32 samples of one
    calibrated trace are exact in any order (the samples span far fewer than 29 binary orders of
    magnitude), so these equal the sequential sums."""
    sig = types.UniTuple(types.float64, 3)(row, types.intp, types.intp)

    def codegen(context, builder, sig, args):
        rowty, _, _ = sig.args
        row_, start_, count_ = args
        intp = start_.type
        f64 = ir.DoubleType()
        vd = ir.VectorType(f64, LANES)
        vi = ir.VectorType(intp, LANES)
        ptr = _block_ptr(context, builder, rowty, row_, start_, _VF)
        lanes_i = ir.Constant(vi, list(range(LANES)))
        zero_d = ir.Constant(vd, [0.0] * LANES)
        sums = [cgutils.alloca_once_value(builder, zero_d) for _ in range(3)]
        eight = ir.Constant(intp, LANES)
        n_blocks = builder.udiv(builder.add(count_, ir.Constant(intp, LANES - 1)), eight)
        with cgutils.for_range(builder, n_blocks, intp=intp) as loop:
            b = loop.index
            off = builder.mul(b, eight)
            idx = builder.add(_splat(builder, off, vi), lanes_i)  # position in the window
            inside = builder.icmp_signed("<", idx, _splat(builder, count_, vi))
            v = builder.fpext(_load(builder, ptr, b), vd)
            v = builder.select(inside, v, zero_d)
            positive = builder.select(builder.fcmp_ordered(">", v, zero_d), v, zero_d)
            k = builder.sitofp(builder.add(idx, _splat(builder, start_, vi)), vd)
            for acc, term in zip(sums, (v, builder.fmul(positive, k), positive)):
                builder.store(builder.fadd(builder.load(acc), term), acc)
        out = []
        for acc in sums:
            vec = builder.load(acc)
            half = LANES // 2
            while half:
                perm = [(lane + half) % LANES for lane in range(LANES)]
                vec = builder.fadd(vec, builder.shuffle_vector(
                    vec, vec, ir.Constant(ir.VectorType(_I32, LANES), perm)))
                half //= 2
            out.append(builder.extract_element(vec, ir.Constant(_I32, 0)))
        return context.make_tuple(builder, sig.return_type, out)

    return sig, codegen


@intrinsic
def select_calibrate(typingctx, high, low, nblocks, top, threshold, two_gains, pedestal_high,
                     pedestal_low, scale_high, scale_low, out):
    """Gain selection and calibration of one pixel's first 8 * nblocks samples in one pass over
    the high gain: out = (high - pedestal_high) * scale_high while taking the high gain's
    maximum; when ``two_gains`` and max(that maximum, ``top``) > threshold, out = (low -
    pedestal_low) * scale_low instead. Returns whether the low gain was selected (unsigned
    integer counts)."""
    if not (isinstance(high, types.Array) and isinstance(high.dtype, types.Integer)
            and not high.dtype.signed):
        return None
    sig = types.boolean(high, low, types.intp, types.intp, types.intp, types.boolean,
                        types.float32, types.float32, types.float32, types.float32, out)

    def codegen(context, builder, sig, args):
        hty, lty, _, _, _, _, _, _, _, _, outty = sig.args
        h_, l_, nb_, top_, thr_, two_, pedh_, pedl_, sch_, scl_, out_ = args
        intp = nb_.type
        zero = ir.Constant(intp, 0)
        vty = _ivec(hty)
        hp = _block_ptr(context, builder, hty, h_, zero, vty)
        lp = _block_ptr(context, builder, lty, l_, zero, _ivec(lty))
        op = _block_ptr(context, builder, outty, out_, zero, _VF)
        ped_v = _splat(builder, pedh_, _VF)
        best = cgutils.alloca_once_value(builder, ir.Constant(vty, None))
        with cgutils.for_range(builder, nb_, intp=intp) as loop:
            v = _load(builder, hp, loop.index)
            cur = builder.load(best)
            builder.store(builder.select(builder.icmp_unsigned(">", v, cur), v, cur), best)
            f = builder.fmul(builder.fsub(builder.uitofp(v, _VF), ped_v), _splat(builder, sch_, _VF))
            builder.store(f, builder.gep(op, [loop.index]), align=1)
        vec = builder.load(best)
        hmax = builder.extract_element(vec, ir.Constant(_I32, 0))
        for lane in range(1, LANES):
            x = builder.extract_element(vec, ir.Constant(_I32, lane))
            hmax = builder.select(builder.icmp_unsigned(">", x, hmax), x, hmax)
        hmax = builder.zext(hmax, intp)
        m = builder.select(builder.icmp_signed(">", hmax, top_), hmax, top_)
        sel = builder.and_(two_, builder.icmp_signed(">", m, thr_))
        with builder.if_then(sel, likely=False):
            lsigned = lty.dtype.signed
            with cgutils.for_range(builder, nb_, intp=intp) as loop:
                v = _load(builder, lp, loop.index)
                f = builder.sitofp(v, _VF) if lsigned else builder.uitofp(v, _VF)
                f = builder.fmul(builder.fsub(f, _splat(builder, pedl_, _VF)), _splat(builder, scl_, _VF))
                builder.store(f, builder.gep(op, [loop.index]), align=1)
        return sel

    return sig, codegen
