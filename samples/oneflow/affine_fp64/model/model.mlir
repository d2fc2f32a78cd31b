module {
  oneflow.job @Graph_5(%arg0: tensor<2x3xf64>) -> tensor<2x3xf64> {
    %output = "oneflow.input"(%arg0) {data_type = 3 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_5_input.0.0_2", output_lbns = ["_Graph_5_input.0.0_2/out"], scope_symbol_id = 239 : i64, shape = [2 : si64, 3 : si64]} : (tensor<2x3xf64>) -> tensor<2x3xf64>
    %0 = "oneflow.scalar_mul"(%output) {device_name = ["@0:0"], device_tag = "cpu", float_operand = 2.000000e+00 : f64, has_float_operand = true, has_int_operand = false, hierarchy = [1], int_operand = 0 : si64, op_name = "m-scalar_mul-0", scope_symbol_id = 243 : i64} : (tensor<2x3xf64>) -> tensor<2x3xf64>
    %1 = "oneflow.scalar_add"(%0) {device_name = ["@0:0"], device_tag = "cpu", float_operand = 1.000000e+00 : f64, has_float_operand = true, has_int_operand = false, hierarchy = [1], int_operand = 0 : si64, op_name = "m-scalar_add-1", scope_symbol_id = 243 : i64} : (tensor<2x3xf64>) -> tensor<2x3xf64>
    %output_0 = "oneflow.output"(%1) {data_type = 3 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_5_output.0.0_2", output_lbns = ["_Graph_5_output.0.0_2/out"], scope_symbol_id = 239 : i64, shape = [2 : si64, 3 : si64]} : (tensor<2x3xf64>) -> tensor<2x3xf64>
    oneflow.return %output_0 : tensor<2x3xf64>
  }
}
