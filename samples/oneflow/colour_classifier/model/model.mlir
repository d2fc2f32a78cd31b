module {
  oneflow.job @Graph_0(%arg0: tensor<1x3x32x32xf32>) -> tensor<1x4xf32> {
    %output = "oneflow.input"(%arg0) {data_type = 2 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_0_input.0.0_2", output_lbns = ["_Graph_0_input.0.0_2/out"], scope_symbol_id = 12 : i64, shape = [1 : si64, 3 : si64, 32 : si64, 32 : si64]} : (tensor<1x3x32x32xf32>) -> tensor<1x3x32x32xf32>
    %output_0 = "oneflow.variable"() {data_type = 2 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m.fc.weight", output_lbns = ["m.fc.weight/out"], parallel = #sbp.parallel<[] -> [[#sbp.B]]>, scope_symbol_id = 25 : i64, shape = [4 : si64, 3 : si64]} : () -> tensor<4x3xf32>
    %output_1 = "oneflow.variable"() {data_type = 2 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m.fc.bias", output_lbns = ["m.fc.bias/out"], parallel = #sbp.parallel<[] -> [[#sbp.B]]>, scope_symbol_id = 32 : i64, shape = [4 : si64]} : () -> tensor<4xf32>
    %0 = "oneflow.adaptive_avg_pool2d"(%output) {device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m.pool-adaptive_avg_pool2d-0", output_size = [1 : si64, 1 : si64], scope_symbol_id = 17 : i64} : (tensor<1x3x32x32xf32>) -> tensor<1x3x1x1xf32>
    %1 = "oneflow.reshape"(%0) {device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m-reshape-1", scope_symbol_id = 20 : i64, shape = [1 : si64, 3 : si64]} : (tensor<1x3x1x1xf32>) -> tensor<1x3xf32>
    %2 = "oneflow.matmul"(%1, %output_0) {alpha = 1.000000e+00 : f64, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m.fc-matmul-2", scope_symbol_id = 28 : i64, transpose_a = false, transpose_b = true} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<1x4xf32>
    %3 = "oneflow.broadcast_add"(%2, %output_1) {device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m.fc-broadcast_add-3", scope_symbol_id = 28 : i64} : (tensor<1x4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
    %4 = "oneflow.softmax"(%3) {device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], op_name = "m-softmax-4", scope_symbol_id = 20 : i64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %output_2 = "oneflow.output"(%4) {data_type = 2 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_0_output.0.0_2", output_lbns = ["_Graph_0_output.0.0_2/out"], scope_symbol_id = 12 : i64, shape = [1 : si64, 4 : si64]} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    oneflow.return %output_2 : tensor<1x4xf32>
  }
}
