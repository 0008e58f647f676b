#include "ei8/pipeline/layer_prices.h"

#include <algorithm>
#include <cmath>

#include "ei8/arch/model_workload.h"
#include "ei8/arch/systolic_model.h"
#include "ei8/graph/shape_inference.h"

namespace ei8::pipeline {

arch::ArrayConfig array_for(const arch::ArrayConfig& array, quant::LayerPrecision p) {
  arch::ArrayConfig a = array;
  a.word_bytes = quant::precision_word_bytes(p);
  a.bandwidth = std::max<int64_t>(1, array.bandwidth / a.word_bytes);
  return a;
}

arch::EnergyTable default_float_energy_table() {
  arch::EnergyTable t = arch::default_energy_table();
  t.name += " (fp32 MACs: mac_pj x16, array_bytes_per_mac x4)";
  t.mac_pj *= 16.0;
  t.array_bytes_per_mac *= 4.0;
  return t;
}

arch::EnergyTable default_int16_energy_table() {
  arch::EnergyTable t = arch::default_energy_table();
  t.name += " (A16W8 MACs: mac_pj x2, array_bytes_per_mac x2)";
  t.mac_pj *= 2.0;
  t.array_bytes_per_mac *= 2.0;
  return t;
}

quant::LayerPriceFn arch_layer_prices(quant::CostMetric metric, const arch::ArrayConfig& array,
                                      const arch::EnergyTable& int8_energy,
                                      const arch::EnergyTable& float_energy,
                                      const arch::EnergyTable& int16_energy) {
  return [=](const Graph& g,
             const std::vector<std::string>& layers) -> Result<std::vector<quant::LayerPrice>> {
    constexpr size_t kN = quant::kPrecisionSlots;
    Graph shaped = g;
    EI8_RETURN_IF_ERROR(infer_shapes(shaped));
    EI8_ASSIGN_OR_RETURN(arch::Workload w, arch::workload_from_graph(shaped));
    std::vector<quant::LayerPrice> prices;
    for (const std::string& name : layers) {
      prices.push_back({name, std::vector<double>(kN, NAN), std::vector<int64_t>(kN, 0)});
    }
    for (quant::LayerPrecision p : quant::kSearchPrecisions) {
      const arch::ArrayConfig a = array_for(array, p);
      EI8_RETURN_IF_ERROR(a.validate());
      const arch::EnergyTable& table = p == quant::LayerPrecision::kInt8    ? int8_energy
                                       : p == quant::LayerPrecision::kInt16 ? int16_energy
                                                                            : float_energy;
      arch::LayerSimulator sim(a);
      const auto k = static_cast<size_t>(p);
      for (quant::LayerPrice& lp : prices) {
        double cycles = 0, energy_pj = 0;
        bool found = false;
        for (const arch::Layer& l : w.layers) {
          if (l.name != lp.node && l.name.rfind(lp.node + "_g", 0) != 0) continue;
          EI8_ASSIGN_OR_RETURN(arch::LayerStats s, sim.simulate(l));
          cycles += static_cast<double>(s.total_cycles);
          energy_pj += arch::layer_energy(table, arch::action_counts(s), a).total();
          found = true;
        }
        if (!found) {
          return invalid_argument(
              "cannot price layer '{}': simulator layer = absent, must be mapped by the "
              "workload of graph '{}'",
              lp.node, g.name());
        }
        lp.cycles[k] = static_cast<int64_t>(cycles);
        lp.cost[k] = metric == quant::CostMetric::kCycles ? cycles : energy_pj / 1000.0;
      }
    }
    return prices;
  };
}

}  // namespace ei8::pipeline
