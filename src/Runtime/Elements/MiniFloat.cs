namespace StateDict;

/// <summary>How a small float format spends its top codes.</summary>
internal enum MiniFloatSpecials
{
    /// <summary>IEEE-like: the top exponent is infinity (mantissa 0) or NaN (float8_e5m2).</summary>
    Ieee,

    /// <summary>No infinity; only all-ones exponent and mantissa is NaN (float8_e4m3fn).</summary>
    FiniteAllOnesNaN,

    /// <summary>No infinity, no negative zero: the sign bit alone (0x80) is the only NaN (the FNUZ formats).</summary>
    FiniteNegativeZeroNaN,

    /// <summary>Every code is a finite number (the OCP MX float4 and float6 formats).</summary>
    Finite,
}

/// <summary>Exact decoding of the small float formats (float8, float6, float4) to <see cref="float"/>.</summary>
internal static class MiniFloat
{
    /// <param name="bits">The code, in the low <c>1 + exponentBits + mantissaBits</c> bits.</param>
    /// <param name="exponentBits">Exponent width.</param>
    /// <param name="mantissaBits">Mantissa width.</param>
    /// <param name="bias">Exponent bias.</param>
    /// <param name="specials">Which codes are NaN or infinite.</param>
    public static float Decode(int bits, int exponentBits, int mantissaBits, int bias, MiniFloatSpecials specials)
    {
        int signBit = 1 << (exponentBits + mantissaBits);
        int maxExponent = (1 << exponentBits) - 1;
        int mantissaMask = (1 << mantissaBits) - 1;
        bool negative = (bits & signBit) != 0;
        int exponent = (bits >> mantissaBits) & maxExponent;
        int mantissa = bits & mantissaMask;
        switch (specials)
        {
            case MiniFloatSpecials.Ieee when exponent == maxExponent:
                return mantissa != 0 ? float.NaN : negative ? float.NegativeInfinity : float.PositiveInfinity;
            case MiniFloatSpecials.FiniteAllOnesNaN when exponent == maxExponent && mantissa == mantissaMask:
                return float.NaN;
            case MiniFloatSpecials.FiniteNegativeZeroNaN when bits == signBit:
                return float.NaN;
        }
        float magnitude = exponent == 0
            ? MathF.ScaleB(mantissa, 1 - bias - mantissaBits)
            : MathF.ScaleB(mantissa + (1 << mantissaBits), exponent - bias - mantissaBits);
        return negative ? -magnitude : magnitude;
    }
}
