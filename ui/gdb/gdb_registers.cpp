#include "ui/gdb/gdb_registers.h"

#include <fmt/format.h>

namespace bootsim::gdb {

namespace {

constexpr const char* core = "org.gnu.gdb.i386.core";
constexpr const char* sse = "org.gnu.gdb.i386.sse";
constexpr const char* segments = "org.gnu.gdb.i386.segments";
constexpr const char* system = "org.bootsim.x86.system";

std::vector<RegisterInfo> build()
{
    using R = CpuRegister;
    std::vector<RegisterInfo> r = {
        {"rax", R::Rax, 64, "int64", core}, {"rbx", R::Rbx, 64, "int64", core},
        {"rcx", R::Rcx, 64, "int64", core}, {"rdx", R::Rdx, 64, "int64", core},
        {"rsi", R::Rsi, 64, "int64", core}, {"rdi", R::Rdi, 64, "int64", core},
        {"rbp", R::Rbp, 64, "data_ptr", core}, {"rsp", R::Rsp, 64, "data_ptr", core},
    };
    const char* high[] = {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    for (int i = 0; i < 8; ++i)
        r.push_back({high[i], CpuRegister(int(R::R8) + i), 64, "int64", core});
    r.push_back({"rip", R::Rip, 64, "code_ptr", core});
    r.push_back({"eflags", R::Rflags, 32, "i386_eflags", core});
    const char* selectors[] = {"cs", "ss", "ds", "es", "fs", "gs"};
    for (int i = 0; i < 6; ++i)
        r.push_back({selectors[i], CpuRegister(int(R::Cs) + i), 32, "int32", core});
    for (int i = 0; i < 8; ++i) {
        static const char* st[] = {"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"};
        r.push_back({st[i], CpuRegister(int(R::St0) + i), 80, "i387_ext", core});
    }
    const char* fpu[] = {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"};
    for (int i = 0; i < 8; ++i)
        r.push_back({fpu[i], CpuRegister(int(R::Fctrl) + i), 32, "int", core});
    for (int i = 0; i < 16; ++i) {
        static const char* xmm[] = {"xmm0", "xmm1", "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",
                                    "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"};
        r.push_back({xmm[i], CpuRegister(int(R::Xmm0) + i), 128, "vec128", sse});
    }
    r.push_back({"mxcsr", R::Mxcsr, 32, "i386_mxcsr", sse});
    r.push_back({"fs_base", R::FsBase, 64, "int", segments});
    r.push_back({"gs_base", R::GsBase, 64, "int", segments});
    r.push_back({"k_gs_base", R::KernelGsBase, 64, "int", system});
    r.push_back({"cr0", R::Cr0, 64, "int", system});
    r.push_back({"cr2", R::Cr2, 64, "int", system});
    r.push_back({"cr3", R::Cr3, 64, "int", system});
    r.push_back({"cr4", R::Cr4, 64, "int", system});
    r.push_back({"cr8", R::Cr8, 64, "int", system});
    r.push_back({"efer", R::Efer, 64, "int", system});
    return r;
}

// The types gdb's own i386 descriptions define, which the registers above use.
constexpr const char* core_types = R"(<flags id="i386_eflags" size="4">
  <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
  <field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
  <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
  <field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
  <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
  <field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
</flags>
)";

// A type belongs to the feature that defines it: the SSE feature's own.
constexpr const char* sse_types = R"(<vector id="v8bf16" type="bfloat16" count="8"/><vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/><vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/><vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>
  <field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
  <field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>
<flags id="i386_mxcsr" size="4">
  <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
  <field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
  <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
  <field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
  <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
</flags>
)";

std::string describe()
{
    std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
                      "<architecture>i386:x86-64</architecture>\n";
    const char* open = nullptr;
    for (const RegisterInfo& r : registers()) {
        if (!open || std::string_view(open) != r.feature) {
            if (open)
                xml += "</feature>\n";
            open = r.feature;
            xml += fmt::format("<feature name=\"{}\">\n", open);
            if (std::string_view(open) == core)
                xml += core_types;
            else if (std::string_view(open) == sse)
                xml += sse_types;
        }
        bool vector = r.reg >= CpuRegister::Xmm0 && r.reg <= CpuRegister::Mxcsr;
        bool float_group = r.reg >= CpuRegister::St0 && r.reg <= CpuRegister::Fop;
        bool system_group = std::string_view(r.feature) == system;
        xml += fmt::format("  <reg name=\"{}\" bitsize=\"{}\" type=\"{}\"{}/>\n", r.name, r.bits, r.type,
                           vector         ? " group=\"vector\""
                           : float_group  ? " group=\"float\""
                           : system_group ? " group=\"system\""
                                          : "");
    }
    return xml + "</feature>\n</target>\n";
}

}  // namespace

const std::vector<RegisterInfo>& registers()
{
    static const std::vector<RegisterInfo> all = build();
    return all;
}

const std::string& target_description()
{
    static const std::string xml = describe();
    return xml;
}

}  // namespace bootsim::gdb
