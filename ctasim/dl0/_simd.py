"""Explicit 8-lane SIMD helpers for the R1 -> DL1 kernels, as numba intrinsics emitting LLVM vector
IR (numba's loops over a few dozen samples do not vectorise: fp max reductions are never
vectorised and short loops of runtime length pay alias checks and remainders).

All helpers work on whole blocks of 8 elements starting at element ``start`` of a C-contiguous 1D
array; callers handle any tail with scalar code. Results are bit-identical to the scalar loops.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8
_F32 = ir.FloatType()
_I16 = ir.IntType(16)
_I32 = ir.IntType(32)
_I8 = ir.IntType(8)
_VF = ir.VectorType(_F32, LANES)
_VI16 = ir.VectorType(_I16, LANES)
_VI32 = ir.VectorType(_I32, LANES)


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


@intrinsic
def block_max(typingctx, arr, nblocks):
    """Maximum of ``arr[:8 * nblocks]`` (unsigned integers; nblocks >= 1), as intp."""
    if not (isinstance(arr, types.Array) and isinstance(arr.dtype, types.Integer)
            and not arr.dtype.signed):
        return None
    sig = types.intp(arr, types.intp)

    def codegen(context, builder, sig, args):
        arrty, _ = sig.args
        arr_, nb_ = args
        intp = nb_.type
        vty = _ivec(arrty)
        ptr = _block_ptr(context, builder, arrty, arr_, ir.Constant(intp, 0), vty)
        best = cgutils.alloca_once_value(builder, _load(builder, ptr, ir.Constant(intp, 0)))
        with cgutils.for_range_slice(builder, ir.Constant(intp, 1), nb_, ir.Constant(intp, 1), intp=intp) as (b, _):
            v = _load(builder, ptr, b)
            cur = builder.load(best)
            builder.store(builder.select(builder.icmp_unsigned(">", v, cur), v, cur), best)
        vec = builder.load(best)
        top = builder.extract_element(vec, ir.Constant(_I32, 0))
        for lane in range(1, LANES):
            x = builder.extract_element(vec, ir.Constant(_I32, lane))
            top = builder.select(builder.icmp_unsigned(">", x, top), x, top)
        return builder.zext(top, intp)

    return sig, codegen


@intrinsic
def to_pe(typingctx, src, start, nblocks, pedestal, scale, out):
    """out[start + k] = (float32(src[start + k]) - pedestal) * scale for 8 * nblocks elements."""
    sig = types.void(src, types.intp, types.intp, types.float32, types.float32, out)

    def codegen(context, builder, sig, args):
        srcty, _, _, _, _, outty = sig.args
        src_, start_, nb_, ped_, scale_, out_ = args
        vty = _ivec(srcty)
        sp = _block_ptr(context, builder, srcty, src_, start_, vty)
        op = _block_ptr(context, builder, outty, out_, start_, _VF)
        ped_v = _splat(builder, ped_, _VF)
        scale_v = _splat(builder, scale_, _VF)
        signed = srcty.dtype.signed
        with cgutils.for_range(builder, nb_) as loop:
            v = _load(builder, sp, loop.index)
            f = builder.sitofp(v, _VF) if signed else builder.uitofp(v, _VF)
            builder.store(builder.fmul(builder.fsub(f, ped_v), scale_v), builder.gep(op, [loop.index]),
                          align=1)

    return sig, codegen


@intrinsic
def scaled_copy(typingctx, src, nblocks, weight, out):
    """out[k] = src[k] * weight for the first 8 * nblocks elements (float32)."""
    sig = types.void(src, types.intp, types.float32, out)

    def codegen(context, builder, sig, args):
        srcty, _, _, outty = sig.args
        src_, nb_, w_, out_ = args
        zero = ir.Constant(nb_.type, 0)
        sp = _block_ptr(context, builder, srcty, src_, zero, _VF)
        op = _block_ptr(context, builder, outty, out_, zero, _VF)
        w_v = _splat(builder, w_, _VF)
        with cgutils.for_range(builder, nb_) as loop:
            v = _load(builder, sp, loop.index)
            builder.store(builder.fmul(v, w_v), builder.gep(op, [loop.index]), align=1)

    return sig, codegen


@intrinsic
def add_into(typingctx, acc, src, nblocks):
    """acc[k] += src[k] for the first 8 * nblocks elements (float32)."""
    sig = types.void(acc, src, types.intp)

    def codegen(context, builder, sig, args):
        accty, srcty, _ = sig.args
        acc_, src_, nb_ = args
        zero = ir.Constant(nb_.type, 0)
        ap = _block_ptr(context, builder, accty, acc_, zero, _VF)
        sp = _block_ptr(context, builder, srcty, src_, zero, _VF)
        with cgutils.for_range(builder, nb_) as loop:
            p = builder.gep(ap, [loop.index])
            builder.store(builder.fadd(builder.load(p, align=1), _load(builder, sp, loop.index)), p,
                          align=1)

    return sig, codegen


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
        vec = builder.load(best)
        top = builder.extract_element(vec, ir.Constant(_I32, 0))
        for lane in range(1, LANES):
            x = builder.extract_element(vec, ir.Constant(_I32, lane))
            top = builder.select(builder.fcmp_ordered(">", x, top), x, top)
        top_v = _splat(builder, top, _VF)
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

    return sig, codegen
