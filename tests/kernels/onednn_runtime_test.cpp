// oneDNN as a plan-candidate source (kernels/onednn_runtime.h): what it reports must agree with
// the CPU we detect, so that INT8 layers are offered to oneDNN only where its sums are exact.
#include "ei8/runtime/kernels/onednn_runtime.h"

#include <gtest/gtest.h>

#ifdef EI8_HAVE_ONEDNN
#include <omp.h>
#endif

#include "ei8/runtime/kernels/cpu_features.h"

namespace ei8::kernels {
namespace {

TEST(OnednnRuntime, ReportsAnIsaConsistentWithOurTier) {
#ifdef EI8_HAVE_ONEDNN
  if (!isa_available(Isa::kAvx2)) GTEST_SKIP() << "no AVX2";
  EXPECT_TRUE(onednn::available());
  EXPECT_FALSE(onednn::isa_name().empty());
  // Exact int8 needs VNNI (or AMX); with AVX-512 VNNI our tier and oneDNN's agree.
  if (best_isa() == Isa::kAvx512Vnni) {
    EXPECT_TRUE(onednn::int8_exact()) << onednn::isa_name();
  }
  if (!cpu_features().avx512vnni && onednn::isa_name() == "avx2") {
    EXPECT_FALSE(onednn::int8_exact());
  }
  // The engine and the calling thread's stream exist and are reused.
  EXPECT_EQ(&onednn::engine(), &onednn::engine());
  EXPECT_EQ(&onednn::stream(), &onednn::stream());
#else
  EXPECT_FALSE(onednn::available());
  EXPECT_FALSE(onednn::int8_exact());
  EXPECT_TRUE(onednn::isa_name().empty());
#endif
}

#ifdef EI8_HAVE_ONEDNN
// A libtorch training raises the thread's OpenMP team size (torch::set_num_threads); the next
// oneDNN call on that thread must still run, and choose its implementation, with one thread.
TEST(OnednnRuntime, EveryStreamCallResetsTheThreadsTeamToOne) {
  omp_set_num_threads(2);
  ASSERT_EQ(omp_get_max_threads(), 2);
  (void)onednn::stream();
  EXPECT_EQ(omp_get_max_threads(), 1);
  omp_set_num_threads(3);
  (void)onednn::stream();
  EXPECT_EQ(omp_get_max_threads(), 1);
}
#endif

}  // namespace
}  // namespace ei8::kernels
