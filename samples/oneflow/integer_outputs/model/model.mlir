module {
  oneflow.job @Graph_4(%arg0: tensor<4x3xsi32>) -> (tensor<4x3xui8>, tensor<4x3xsi32>) {
    %output = "oneflow.input"(%arg0) {data_type = 5 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_4_input.0.0_2", output_lbns = ["_Graph_4_input.0.0_2/out"], scope_symbol_id = 214 : i64, shape = [4 : si64, 3 : si64]} : (tensor<4x3xsi32>) -> tensor<4x3xsi32>
    %0 = "oneflow.cast"(%output) {device_name = ["@0:0"], device_tag = "cpu", dtype = 7 : i32, hierarchy = [1], op_name = "m-cast-2", pin_memory = false, scope_symbol_id = 218 : i64} : (tensor<4x3xsi32>) -> tensor<4x3xui8>
    %1 = "oneflow.scalar_mul"(%output) {device_name = ["@0:0"], device_tag = "cpu", float_operand = 0.000000e+00 : f64, has_float_operand = false, has_int_operand = true, hierarchy = [1], int_operand = 3 : si64, op_name = "m-scalar_mul-0", scope_symbol_id = 218 : i64} : (tensor<4x3xsi32>) -> tensor<4x3xsi32>
    %output_0 = "oneflow.output"(%0) {data_type = 7 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_4_output.0.0.1_4", output_lbns = ["_Graph_4_output.0.0.1_4/out"], scope_symbol_id = 214 : i64, shape = [4 : si64, 3 : si64]} : (tensor<4x3xui8>) -> tensor<4x3xui8>
    %2 = "oneflow.scalar_add"(%1) {device_name = ["@0:0"], device_tag = "cpu", float_operand = 0.000000e+00 : f64, has_float_operand = false, has_int_operand = true, hierarchy = [1], int_operand = 1 : si64, op_name = "m-scalar_add-1", scope_symbol_id = 218 : i64} : (tensor<4x3xsi32>) -> tensor<4x3xsi32>
    %output_1 = "oneflow.output"(%2) {data_type = 5 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], is_dynamic = false, nd_sbp = ["B"], op_name = "_Graph_4_output.0.0.0_3", output_lbns = ["_Graph_4_output.0.0.0_3/out"], scope_symbol_id = 214 : i64, shape = [4 : si64, 3 : si64]} : (tensor<4x3xsi32>) -> tensor<4x3xsi32>
    oneflow.return %output_0, %output_1 : tensor<4x3xui8>, tensor<4x3xsi32>
  }
}
